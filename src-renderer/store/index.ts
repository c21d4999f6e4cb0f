/**
 * The one module that wraps zustand. One store built from typed slices; components select the
 * smallest value they need (`useApp(s => s.x)`, `useAppShallow` for computed objects), code
 * outside React uses `appStore` (getState / subscribe for transient updates). Bulk data (event
 * columns, entry rows) is NOT here: the store holds counts, selection and version numbers.
 */
import { create } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { createConnectionSlice, type ConnectionSlice } from './slices/connection';
import { createEventsSlice, type EventsSlice } from './slices/eventCounts';
import { createProcessesSlice, type ProcessesSlice } from './slices/processes';
import { createSessionSlice, type SessionSlice } from './slices/session';
import { createSnapshotsSlice, type SnapshotsSlice } from './slices/snapshots';
import { createUiSlice, type UiSlice } from './slices/ui';

export type AppState = ConnectionSlice &
  ProcessesSlice &
  SnapshotsSlice &
  SessionSlice &
  EventsSlice &
  UiSlice;

export const useApp = create<AppState>()((...a) => ({
  ...createConnectionSlice(...a),
  ...createProcessesSlice(...a),
  ...createSnapshotsSlice(...a),
  ...createSessionSlice(...a),
  ...createEventsSlice(...a),
  ...createUiSlice(...a),
}));

/** For selectors that build an object or array: re-render only when its parts change. */
export function useAppShallow<T>(selector: (s: AppState) => T): T {
  return useApp(useShallow(selector));
}

/** Non-React access: getState, setState, subscribe (transient subscriptions). */
export const appStore = {
  get: useApp.getState,
  subscribe: useApp.subscribe,
};

export type { Tab, CaptureForm, ColorBy } from './slices/ui';
export { TABS, DEFAULT_CAPTURE_FORM } from './slices/ui';
export type { LiveCounts } from './slices/eventCounts';
export { EMPTY_COUNTS } from './slices/eventCounts';
export type { ConnectionStatus } from './slices/connection';
