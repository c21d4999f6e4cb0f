/**
 * The renderer's single entry to src-shared/events (the binary event layout and decoder), so
 * the views depend on one module rather than on the shared folder's file layout.
 */
export * from '../../src-shared/events/layout';
export {
  EventBatchView,
  EventWriter,
  hexAddress,
  joinAddress,
} from '../../src-shared/events/batch';
export type { DecodedEvent, EventFields } from '../../src-shared/events/batch';
