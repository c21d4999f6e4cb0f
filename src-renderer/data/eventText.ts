/** Human-readable text for one event row of the column store. */
import { win32ErrorName } from '../../src-shared/pss/constants';
import { hexNumber, plural } from '../lib/format';
import {
  API_CALL_NAMES,
  EVENT_KIND_NAMES,
  EventKind,
  FAULTY_BIT,
  FailReason,
  GuardVerdict,
  NO_CLASS,
  STRATEGY_NAMES,
  StrategyId,
  UserAllocatorReason,
} from '../lib/traceEvents';
import type { EventColumns } from './eventColumns';
import { MISSING_KIND } from './eventColumns';

export const CLASS_NAMES: Record<number, string> = {
  0: 'AUXILIARY_PAGES',
  1: 'VA_SPACE',
  2: 'HANDLES',
  3: 'THREADS',
  4: 'THREAD_NAME',
  [NO_CLASS]: '—',
};

/** Short labels for the breakdown by class (index = classSlot). */
export const CLASS_SLOT_LABELS = [
  'Aux pages',
  'VA space',
  'Handles',
  'Threads',
  'Thread name',
  'outside walk',
];

export const API_SHORT: Record<number, string> = {
  0: '—',
  1: 'MarkerCreate',
  2: 'WalkSnapshot',
  3: 'MarkerFree',
  4: 'SeekToBeginning',
  5: 'SetPosition',
  6: 'GetPosition',
};

const KIND_LABELS: Record<number, string> = {
  [EventKind.Alloc]: 'alloc',
  [EventKind.AllocFailed]: 'alloc FAILED',
  [EventKind.Free]: 'free',
  [EventKind.FreeNull]: 'free(NULL)',
  [EventKind.MarkerCreated]: 'marker created',
  [EventKind.WalkStep]: 'walk step',
  [EventKind.WalkEnd]: 'walk end',
  [EventKind.PositionGet]: 'get position',
  [EventKind.PositionSet]: 'set position',
  [EventKind.Seek]: 'seek to beginning',
  [EventKind.MarkerFreed]: 'marker freed',
  [EventKind.ApiError]: 'API error',
  [EventKind.ViolationWrongThread]: 'wrong thread',
  [EventKind.ViolationUnknownFree]: 'unknown free',
  [EventKind.Leak]: 'LEAK',
  [EventKind.ViolationAllocatorReleased]: 'allocator released',
  [EventKind.ViolationGuard]: 'guard violation',
  [EventKind.ViolationDoubleFree]: 'double free',
  [EventKind.ViolationUserAllocator]: 'user allocator broke a rule',
  [MISSING_KIND]: '(fetching…)',
};

export function kindLabel(kind: number): string {
  return KIND_LABELS[kind] ?? EVENT_KIND_NAMES[kind] ?? `kind ${kind}`;
}

const FAIL_REASONS: Record<number, string> = {
  [FailReason.None]: '',
  [FailReason.Exhausted]: 'allocator exhausted',
  [FailReason.FailNth]: 'injected: fail Nth',
  [FailReason.Probability]: 'injected: probability',
  [FailReason.Budget]: 'injected: over budget',
};

const VERDICTS: Record<number, string> = {
  [GuardVerdict.Ok]: 'ok',
  [GuardVerdict.Overrun]: 'overrun (trailing red zone overwritten)',
  [GuardVerdict.Underrun]: 'underrun (leading red zone overwritten)',
  [GuardVerdict.DoubleFree]: 'double free',
  [GuardVerdict.UnknownAddress]: 'address never allocated',
};

export function strategyLabel(code: number): string {
  const base = STRATEGY_NAMES[code & ~FAULTY_BIT] ?? `strategy ${code & ~FAULTY_BIT}`;
  return code & FAULTY_BIT ? `faulty→${base}` : base;
}

/** The kind-specific part (aux fields explained). */
export function eventDetail(c: EventColumns, s: number): string {
  const k = c.kind.get(s);
  const aux0 = c.aux0.get(s);
  const aux1 = c.aux1.get(s);
  const strat = c.strategy.get(s) & ~FAULTY_BIT;
  switch (k) {
    case EventKind.Alloc:
      if (strat === StrategyId.guard) return `red zones ${aux0} B`;
      if (strat === StrategyId.arena) return `arena offset ${aux0}`;
      if (strat === StrategyId.pool)
        return aux0 === 0xffff ? 'pool: large (malloc)' : `pool class #${aux0}`;
      return '';
    case EventKind.AllocFailed:
      return FAIL_REASONS[aux0] ?? `reason ${aux0}`;
    case EventKind.Free:
      return strat === StrategyId.guard ? `guard: ${VERDICTS[aux0] ?? aux0}` : '';
    case EventKind.WalkStep:
      return `entry #${aux0}${aux1 ? ` → ${win32ErrorName(aux1)}` : ''}`;
    case EventKind.WalkEnd:
      return `${plural(aux0, 'entry', 'entries')}, ${win32ErrorName(aux1)}`;
    case EventKind.PositionGet:
    case EventKind.PositionSet:
      return `position ${hexNumber(aux1 * 4294967296 + aux0)}`;
    case EventKind.ApiError:
      return win32ErrorName(aux1);
    case EventKind.ViolationGuard:
    case EventKind.ViolationDoubleFree:
    case EventKind.ViolationUnknownFree:
      return VERDICTS[aux0] && aux0 ? VERDICTS[aux0] : '';
    case EventKind.ViolationWrongThread:
      return aux0 === 1
        ? 'routine called outside any Pss call'
        : aux0 === 2
          ? `expected thread ${aux1}`
          : '';
    case EventKind.ViolationAllocatorReleased:
      return aux0 === 1
        ? 'release deferred while the marker lives'
        : aux0 === 2
          ? 'routine used after release'
          : '';
    case EventKind.Leak:
      return 'still allocated when the marker was freed';
    case EventKind.ViolationUserAllocator:
      return aux0 === UserAllocatorReason.Misaligned
        ? 'AllocRoutine returned a block that is not 16-byte aligned'
        : aux0 === UserAllocatorReason.Overlap
          ? `AllocRoutine returned a block still live (older block ${aux1} B)`
          : '';
    default:
      return '';
  }
}

/** One line: "#12 alloc 64 B @0x55d0… in PssWalkSnapshot(THREADS) — red zones 16 B". */
export function describeEvent(c: EventColumns, s: number): string {
  const k = c.kind.get(s);
  if (k === MISSING_KIND) return `#${s} (not received yet, fetching…)`;
  const addr = c.address.get(s);
  const size = c.size.get(s);
  const api = API_CALL_NAMES[c.api.get(s)] ?? '—';
  const cls = CLASS_NAMES[c.cls.get(s)] ?? String(c.cls.get(s));
  const detail = eventDetail(c, s);
  const sizeText = size || k === EventKind.Alloc || k === EventKind.Free ? ` ${size} B` : '';
  const where = addr ? ` @${hexNumber(addr)}` : '';
  return `#${s} ${kindLabel(k)}${sizeText}${where} in ${api}${cls !== '—' ? `(${cls})` : ''}${detail ? ` — ${detail}` : ''}`;
}
