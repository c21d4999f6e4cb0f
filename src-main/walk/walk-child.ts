/**
 * Entry of a walk child process (./child.ts): one WalkCore answering its parent over the IPC
 * channel. Walks with a user allocator library run here, so that a library that crashes
 * takes down this process only.
 */
import type { FromWorker, ToWorker } from './protocol';
import { WalkCore } from './core';

const send = process.send?.bind(process);
if (!send) throw new Error('walk-child must be started with an IPC channel (child_process.fork)');
// Test hook (src-main/walk/native-session.test.ts only): die of SIGKILL in place of sending the
// Nth event batch, i.e. after the tracer drained it from its ring, before the parent got it.
const dieAtBatch = Number(process.env['PSS_TEST_WALK_CHILD_DIE_AT_BATCH'] ?? 0);
let batches = 0;
const core = new WalkCore((message: FromWorker) => {
  if (dieAtBatch > 0 && message.t === 'events' && ++batches === dieAtBatch)
    process.kill(process.pid, 'SIGKILL');
  send(message);
});
process.on('message', (m: ToWorker) => {
  if (m.t === 'call') core.handle(m.id, m.call);
});
// The parent went away (or closed the channel after the summary): nothing is left to do.
process.on('disconnect', () => process.exit(0));
