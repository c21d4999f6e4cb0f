/** Small inline SVG icons (no icon font, no emoji: they render the same everywhere). */
const PATHS = {
  play: 'M4 2.5v11l9-5.5z',
  pause: 'M4 2.5h3v11H4zM9 2.5h3v11H9z',
  step: 'M3 2.5v11l7-5.5zM11 2.5h2.5v11H11z',
  seekStart: 'M2.5 2.5H5v11H2.5zM13 2.5v11l-7-5.5z',
  stop: 'M3.5 3.5h9v9h-9z',
  bookmark: 'M4 2h8v12l-4-3-4 3z',
  lock: 'M5 7V5a3 3 0 0 1 6 0v2h1v7H4V7zm1.5 0h3V5a1.5 1.5 0 0 0-3 0z',
  info: 'M8 1a7 7 0 1 1 0 14A7 7 0 0 1 8 1zm0 1.5a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11zM7.2 7h1.6v4.5H7.2zM8 4.2a.9.9 0 1 1 0 1.8.9.9 0 0 1 0-1.8z',
  keyboard:
    'M1 4h14v8H1zm1.5 1.5v5h11v-5zM3 6h1.5v1.2H3zm2.2 0h1.5v1.2H5.2zm2.2 0h1.5v1.2H7.4zm2.2 0h1.5v1.2H9.6zm2.2 0H13v1.2h-1.2zM4.5 8.8h7V10h-7z',
  open: 'M1.5 3h5l1.5 1.5h6.5V13h-13zM3 6v5.5h10V6z',
  save: 'M7.25 1.5h1.5v7.4l2.4-2.4 1.06 1.06L8 11.78 3.79 7.56 4.85 6.5l2.4 2.4zM2 12.5h12V14H2z',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, title }: { name: IconName; title?: string }) {
  return (
    <svg
      className="icon-svg"
      viewBox="0 0 16 16"
      width="14"
      height="14"
      aria-hidden={title ? undefined : true}
      role={title ? 'img' : undefined}
    >
      {title && <title>{title}</title>}
      <path d={PATHS[name]} fill="currentColor" fillRule="evenodd" />
    </svg>
  );
}
