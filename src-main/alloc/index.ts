/**
 * The walk's allocator: strategies that hand out real native memory (heap, arena, pool,
 * guard, faulty) and the TracedAllocator that turns every AllocRoutine/FreeRoutine call into a
 * trace event. Options are plain data from src-shared/alloc/options.ts.
 */
export type { AllocatorStrategy, LiveBlock, GuardFinding } from './strategy';
export { HeapStrategy } from './heap';
export { ArenaStrategy } from './arena';
export { PoolStrategy } from './pool';
export { GuardStrategy, CANARY_BYTE, QUARANTINE_BLOCKS } from './guard';
export { FaultyStrategy, mulberry32, type FaultRules } from './faulty';
export { createStrategy } from './factory';
export {
  TracedAllocator,
  createSessionClock,
  createSessionWriter,
  type TracedAllocatorOptions,
} from './tracer';
