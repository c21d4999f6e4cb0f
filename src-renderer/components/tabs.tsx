/** Keyboard behaviour shared by every tab list (views, sub-tabs, panels). */
import type { KeyboardEvent, ReactNode } from 'react';

/**
 * Arrow keys in a tab list (the WAI-ARIA tabs pattern with automatic activation): ←/→ move to
 * the previous/next tab and select it, Home/End to the first/last.
 */
export function onTabListKey(e: KeyboardEvent<HTMLElement>): void {
  const tabs = [...e.currentTarget.querySelectorAll<HTMLElement>('[role=tab]:not(:disabled)')];
  const i = tabs.indexOf(document.activeElement as HTMLElement);
  if (i < 0) return;
  let next = -1;
  if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
  else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === 'Home') next = 0;
  else if (e.key === 'End') next = tabs.length - 1;
  if (next < 0) return;
  e.preventDefault();
  e.stopPropagation();
  tabs[next]?.focus();
  tabs[next]?.click();
}

/** One tab of a sub-tab list: roving tabindex, aria-controls its panel. */
export function SubTab({
  id,
  selected,
  panelId,
  onSelect,
  testId,
  className = '',
  children,
}: {
  id: string;
  selected: boolean;
  panelId: string;
  onSelect: () => void;
  testId: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <button
      role="tab"
      id={id}
      aria-selected={selected}
      aria-controls={panelId}
      tabIndex={selected ? 0 : -1}
      className={`subtab${selected ? ' on' : ''}${className ? ` ${className}` : ''}`}
      onClick={onSelect}
      data-testid={testId}
    >
      {children}
    </button>
  );
}
