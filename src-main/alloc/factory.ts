/** Options (validated data from src-shared/alloc/options.ts) → a strategy instance. */
import type { AllocatorOptions, BaseAllocatorOptions } from '../../src-shared/alloc/options';
import { ArenaStrategy } from './arena';
import { FaultyStrategy } from './faulty';
import type { FaultRules } from './faulty';
import { GuardStrategy } from './guard';
import { HeapStrategy } from './heap';
import { PoolStrategy } from './pool';
import type { AllocatorStrategy } from './strategy';

function createBase(o: BaseAllocatorOptions): AllocatorStrategy {
  switch (o.strategy) {
    case 'heap':
      return new HeapStrategy();
    case 'arena':
      return new ArenaStrategy(o.capacityBytes);
    case 'pool':
      return new PoolStrategy(o.classes, o.blocksPerSlab);
    case 'guard':
      return new GuardStrategy(o.redZoneBytes);
    case 'user':
      throw new Error(
        'a user allocator library runs only with the native tracer (src-main/pss/native-tracer.ts)',
      );
    default:
      return assertNever(o);
  }
}

function assertNever(x: never): never {
  throw new Error(`unknown allocator strategy ${JSON.stringify(x)}`);
}

/**
 * Builds the strategy `options` describe. Options from outside the process must have gone
 * through parseAllocatorOptions first; this throws (RangeError / Error) on values out of range
 * or when the up-front native memory (arena block, guard reference) cannot be had.
 */
export function createStrategy(options: AllocatorOptions): AllocatorStrategy {
  if (options.strategy !== 'faulty') return createBase(options);
  const { strategy: _s, inner, ...rules } = options;
  return new FaultyStrategy(createBase(inner), rules satisfies FaultRules);
}
