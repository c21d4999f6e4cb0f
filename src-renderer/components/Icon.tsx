/** Small inline SVG icons (no icon font, no emoji: they render the same everywhere). */
const PATHS = {
  play: 'M4 2.5v11l9-5.5z',
  pause: 'M4 2.5h3v11H4zM9 2.5h3v11H9z',
  step: 'M3 2.5v11l7-5.5zM11 2.5h2.5v11H11z',
  seekStart: 'M2.5 2.5H5v11H2.5zM13 2.5v11l-7-5.5z',
  stop: 'M3.5 3.5h9v9h-9z',
  bookmark: 'M4 2h8v12l-4-3-4 3z',
  lock: 'M5 7V5a3 3 0 0 1 6 0v2h1v7H4V7zm1.5 0h3V5a1.5 1.5 0 0 0-3 0z',
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
