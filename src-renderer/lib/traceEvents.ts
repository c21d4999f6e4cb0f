/**
 * The renderer's single entry to src-shared/events (the binary event layout and decoder).
 * The layer rule's bare 'events' pattern is meant for Node's `events` module but also matches
 * this shared folder; re-exporting here keeps the exception in one place.
 */
// eslint-disable-next-line no-restricted-imports
export * from '../../src-shared/events/layout';
// eslint-disable-next-line no-restricted-imports
export {
  EventBatchView,
  EventWriter,
  hexAddress,
  joinAddress,
} from '../../src-shared/events/batch';
// eslint-disable-next-line no-restricted-imports
export type { DecodedEvent, EventFields } from '../../src-shared/events/batch';
