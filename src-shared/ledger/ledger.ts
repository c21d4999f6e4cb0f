/**
 * The ledger: the one fold of a session's event stream (../events) into every allocation fact
 * that is shown or summarized — the live set, totals, per-API / per-class / per-size
 * breakdowns and the problems. The walk worker folds the events it writes (its output is the
 * session summary), the renderer folds the events it receives (its output is every count on
 * screen), the tests fold random streams; nobody else counts.
 *
 * Definitions (one each):
 * - live block: an Alloc whose address has not been freed by a later Free. A Leak event does
 *   not free anything (the block is still outstanding), so leaked blocks stay live.
 * - a Free of an address that is not live changes nothing but `unmatchedFrees` (the tracer
 *   never writes one — it writes ViolationUnknownFree — but an imported trace may).
 * - problems: every AllocFailed, ApiError and violation event (isViolation: the Violation*
 *   kinds and Leak). `violations` counts the Violation* kinds, `leaks` the Leak events, so
 *   problems = allocationFailures + apiErrors + violations + leaks.
 * - per-size: log2 buckets (bucket 0 = size 0, bucket k = [2^(k-1), 2^k)) of every successful
 *   allocation so far, and of the blocks live now.
 *
 * Time travel: with `checkpointEvery` K > 0 the ledger keeps a copy of its state after every
 * K-th event, so the state after any prefix of n events is one copy plus at most K−1 events
 * of folding (`stateAt`).
 *
 * No Node or DOM imports: shared by the worker, the host and the renderer.
 */
import {
  API_CALL_NAMES,
  EVENT_KIND_NAMES,
  EventKind,
  NO_CLASS,
  isViolation,
} from '../events/layout';
import type { ApiCallName, EventKindName } from '../events/layout';
import { VIOLATION_KINDS, WALK_CLASS_KEYS } from '../alloc/stats';
import type { ViolationKindName, WalkClassKey } from '../alloc/stats';

/** Events between checkpoints in the renderer's ledger. */
export const CHECKPOINT_EVENTS = 16_384;

/** Log2 size buckets: bucket 0 holds size 0; bucket k ≥ 1 holds sizes in [2^(k-1), 2^k). */
export const SIZE_BUCKETS = 34;

export function sizeBucket(size: number): number {
  if (size <= 0) return 0;
  const b = 32 - Math.clz32(size >>> 0);
  return b < SIZE_BUCKETS ? b : SIZE_BUCKETS - 1;
}

const API_ROWS = 7;
const CLASS_ROWS = 6;

/** Row of byClass for a walkClass byte (0–4, NO_CLASS or anything else → 5 = NONE). */
export function classRow(cls: number): number {
  return cls === NO_CLASS || cls > 4 ? CLASS_ROWS - 1 : cls;
}

/** Row of byApi for an api byte (unknown values count as None). */
export function apiRow(api: number): number {
  return api < API_ROWS ? api : 0;
}

/** Event kinds that are problems, in the order the problems panel lists them. */
export const PROBLEM_KINDS: readonly EventKindName[] = [
  'AllocFailed',
  'ApiError',
  ...VIOLATION_KINDS,
];
export type ProblemKindName = 'AllocFailed' | 'ApiError' | ViolationKindName;

export function isProblem(kind: number): boolean {
  return kind === EventKind.AllocFailed || kind === EventKind.ApiError || isViolation(kind);
}

/** What an event source must answer; EventBatchView and the renderer's columns both do. */
export interface LedgerEvents {
  kind(i: number): number;
  size(i: number): number;
  /** Block address as a number (exact below 2^53). */
  addressNumber(i: number): number;
  api(i: number): number;
  walkClass(i: number): number;
}

/** Counts and bytes for one API call, walk class or size bucket. */
export interface LedgerRow {
  allocations: number;
  allocBytes: number;
  failures: number;
  /** Frees of blocks allocated here (attributed to the call that freed them). */
  frees: number;
  freeBytes: number;
  freeNulls: number;
  apiErrors: number;
  /** Blocks allocated by this row and still live. */
  liveBlocks: number;
  liveBytes: number;
}

/** The ledger's numbers: what a session summary carries and every view shows. */
export interface LedgerSummary {
  /** Events folded (= the seq of the next event). */
  events: number;
  allocations: number;
  allocationFailures: number;
  frees: number;
  freeNulls: number;
  /** Frees of an address that was not live (not in frees, not in bytesFreed). */
  unmatchedFrees: number;
  bytesAllocated: number;
  bytesFreed: number;
  /** Live blocks (leaked ones included: a Leak frees nothing). */
  liveBlocks: number;
  /** Bytes of the live blocks (bytesAllocated − bytesFreed, unless an Alloc reused a live address: only in a corrupt trace). */
  liveBytes: number;
  peakLiveBytes: number;
  /** Violation* events (Leak not included). */
  violations: number;
  leaks: number;
  apiErrors: number;
  /** allocationFailures + apiErrors + violations + leaks. */
  problems: number;
  /** Every violation kind (Leak included), zeros included. */
  violationsByKind: Record<ViolationKindName, number>;
  /** Every problem kind, zeros included. */
  problemsByKind: Record<ProblemKindName, number>;
  byApi: Record<ApiCallName, LedgerRow>;
  byClass: Record<WalkClassKey, LedgerRow>;
  /** Per log2 size bucket (index = bucket): allocations so far and blocks live now. */
  bySize: {
    allocations: number[];
    allocBytes: number[];
    liveBlocks: number[];
    liveBytes: number[];
  };
}

// Fields of a row inside the flat Float64Array of rows.
const R_ALLOCS = 0;
const R_ALLOC_BYTES = 1;
const R_FAILS = 2;
const R_FREES = 3;
const R_FREE_BYTES = 4;
const R_FREE_NULLS = 5;
const R_API_ERRORS = 6;
const R_LIVE_BLOCKS = 7;
const R_LIVE_BYTES = 8;
const R_FIELDS = 9;

// Scalar totals inside the flat Float64Array of totals.
const T_EVENTS = 0;
const T_ALLOCS = 1;
const T_FAILS = 2;
const T_FREES = 3;
const T_FREE_NULLS = 4;
const T_UNMATCHED = 5;
const T_BYTES_ALLOC = 6;
const T_BYTES_FREED = 7;
const T_LIVE_BYTES = 8;
const T_PEAK = 9;
const T_VIOLATIONS = 10;
const T_LEAKS = 11;
const T_API_ERRORS = 12;
const T_FIELDS = 13;

/** kind value → index into the problem-kind counters (−1: not a problem). */
const PROBLEM_SLOT = new Int8Array(256).fill(-1);
PROBLEM_KINDS.forEach((name, i) => {
  PROBLEM_SLOT[EventKind[name]] = i;
});

/** kind value → 1 when folding it changes nothing but the event count. */
const COUNT_ONLY = new Uint8Array(256).fill(1);
for (let k = 0; k < 256; k++) {
  const counted =
    k === EventKind.Alloc ||
    k === EventKind.Free ||
    k === EventKind.FreeNull ||
    k === EventKind.AllocFailed ||
    k === EventKind.ApiError ||
    k === EventKind.Leak ||
    (isViolation(k) && EVENT_KIND_NAMES[k] !== undefined) ||
    (PROBLEM_SLOT[k] as number) >= 0;
  if (counted) COUNT_ONLY[k] = 0;
}

/**
 * A live block's facts packed into one number: size (u32) · 2^6 + api (3 bits) · 2^3 + class
 * row (3 bits). Exact: below 2^38.
 */
function pack(size: number, api: number, cls: number): number {
  return size * 64 + api * 8 + cls;
}
function unpackSize(p: number): number {
  return Math.floor(p / 64);
}
function unpackApi(p: number): number {
  return (p >>> 3) & 7;
}
function unpackCls(p: number): number {
  return p & 7;
}

/** Size (bytes) of a live block from its packed facts (LiveArrays.packed). */
export const packedSize = unpackSize;
/** byApi row (0–6) of a live block from its packed facts. */
export const packedApiRow = unpackApi;
/** byClass row (0–5, see classRow) of a live block from its packed facts. */
export const packedClassRow = unpackCls;

/**
 * The live blocks as parallel arrays, for a scan spread over time (the block map's rebuild):
 * entry j < length is the block at addr[j], allocated by event seq[j], with packed facts
 * packed[j] (packedSize, packedApiRow, packedClassRow). They hold the set as it was when they
 * were taken, whatever changes after. `copy`: the arrays are a copy their reader may hand back
 * to be filled again (Ledger.liveArrays(reuse)); otherwise they are a posted state's own, only
 * read.
 */
export interface LiveArrays {
  addr: Float64Array;
  seq: Float64Array;
  packed: Float64Array;
  length: number;
  copy: boolean;
}

/** Ledger.fromBytes's error: the bytes are not a state this ledger can take. */
export class LedgerStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerStateError';
  }
}

const STATE_HEADER_BYTES = 40;
/** The first eight words of an exported state: magic "LGST", format 1, then the shape. */
const STATE_SHAPE = [
  0x5453474c,
  1,
  T_FIELDS,
  API_ROWS,
  CLASS_ROWS,
  SIZE_BUCKETS,
  R_FIELDS,
  PROBLEM_KINDS.length,
] as const;

/**
 * A frozen copy of the ledger's state after `events` events: plain typed arrays, so it can be
 * kept (a checkpoint) or posted to another thread (Ledger.fromState rebuilds the ledger).
 */
export interface LedgerState {
  events: number;
  totals: Float64Array;
  apiRows: Float64Array;
  classRows: Float64Array;
  sizeRows: Float64Array;
  problemCounts: Float64Array;
  /** Live set as parallel arrays: address, seq of its Alloc, packed facts. */
  liveAddr: Float64Array;
  liveSeq: Float64Array;
  livePacked: Float64Array;
}

/**
 * A checkpoint: the state after `events` events as LedgerState holds it, except for its live
 * blocks. They are the seqs of their Alloc events (address, size, API and class are those
 * events' own, read back from the events when the state is rebuilt), and every FULL_EVERY-th
 * checkpoint lists them all; the others only what changed since the checkpoint before (blocks
 * allocated since and still live, blocks of before that were freed): a long walk keeps most of
 * its blocks from one checkpoint to the next.
 */
interface Checkpoint {
  events: number;
  totals: Float64Array;
  apiRows: Float64Array;
  classRows: Float64Array;
  sizeRows: Float64Array;
  problemCounts: Float64Array;
  /** Every live block (a full checkpoint), or null. */
  live: Uint32Array | Float64Array | null;
  added: Uint32Array | Float64Array;
  removed: Uint32Array | Float64Array;
}

/** One checkpoint in this many lists every live block. */
const FULL_EVERY = 16;

function seqArray(n: number, maxSeq: number): Uint32Array | Float64Array {
  // Seqs below 2³² (every trace the app reads) fit 4 bytes.
  return maxSeq > 0xffff_ffff ? new Float64Array(n) : new Uint32Array(n);
}

/** One live block, as stateAt / liveBlocks() report it. */
export interface LedgerBlock {
  address: number;
  size: number;
  /** Seq of its Alloc event. */
  seq: number;
  api: number;
  /** Class row (0–4, 5 = no class). */
  cls: number;
}

/**
 * The live set: address → (seq of the Alloc, packed size/api/class), an open-addressing hash
 * table over typed arrays (linear probing, deletion by backward shift, at most half full).
 * A JS Map keyed by addresses cost ~150 ns an insert (its keys are heap numbers above 2^31), and
 * a time-cursor state rebuilds thousands of blocks at once. Reads like a ReadonlyMap of
 * address → alloc seq. Iterators see the set as it was when they started, whatever changes
 * after (a block map rebuild spreads one over frames while events fold).
 */
export class LiveSet implements Iterable<[number, number]> {
  /** Slot keys: the address, 0 = empty (a block at address 0 is kept beside: zero*). */
  private keys = new Float64Array(16);
  private seqs = new Float64Array(16);
  private packs = new Float64Array(16);
  private bits = 4;
  private count = 0;
  private hasZero = false;
  private zeroSeq = 0;
  private zeroPack = 0;

  get size(): number {
    return this.count + (this.hasZero ? 1 : 0);
  }

  /** Home slot of an address: Fibonacci hashing of its two 32-bit halves, top `bits` bits. */
  private home(address: number): number {
    const lo = address >>> 0;
    const hi = (address / 4294967296) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> (32 - this.bits);
  }

  /** Slot of `address` (≠ 0), or −1. */
  private find(address: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.home(address); ; i = (i + 1) & mask) {
      const k = keys[i] as number;
      if (k === address) return i;
      if (k === 0) return -1;
    }
  }

  /** Seq of the Alloc of the live block at `address`, or undefined. */
  get(address: number): number | undefined {
    if (address === 0) return this.hasZero ? this.zeroSeq : undefined;
    const i = this.find(address);
    return i < 0 ? undefined : (this.seqs[i] as number);
  }

  /** Packed facts of the block at `address`, or undefined. */
  packed(address: number): number | undefined {
    if (address === 0) return this.hasZero ? this.zeroPack : undefined;
    const i = this.find(address);
    return i < 0 ? undefined : (this.packs[i] as number);
  }

  /** Room for `n` blocks without growing (a checkpoint's restore knows its count). */
  reserve(n: number): void {
    let bits = this.bits;
    while (1 << bits < 2 * n) bits++;
    if (bits > this.bits) this.rehash(bits);
  }

  private rehash(bits: number): void {
    const { keys, seqs, packs } = this;
    const n = 1 << bits;
    this.keys = new Float64Array(n);
    this.seqs = new Float64Array(n);
    this.packs = new Float64Array(n);
    this.bits = bits;
    const mask = n - 1;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j] as number;
      if (k === 0) continue;
      let i = this.home(k);
      while (this.keys[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = k;
      this.seqs[i] = seqs[j] as number;
      this.packs[i] = packs[j] as number;
    }
  }

  /**
   * Adds the block at `address`; returns the packed facts of the block it replaces (an Alloc of
   * an address still live: only in a corrupt trace), or −1.
   */
  set(address: number, seq: number, packed: number): number {
    if (address === 0) {
      const replaced = this.hasZero ? this.zeroPack : -1;
      this.hasZero = true;
      this.zeroSeq = seq;
      this.zeroPack = packed;
      return replaced;
    }
    if ((this.count + 1) * 2 > this.keys.length) this.rehash(this.bits + 1);
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = this.home(address);
    for (; ; i = (i + 1) & mask) {
      const k = keys[i] as number;
      if (k === address) {
        const replaced = this.packs[i] as number;
        this.seqs[i] = seq;
        this.packs[i] = packed;
        return replaced;
      }
      if (k === 0) break;
    }
    keys[i] = address;
    this.seqs[i] = seq;
    this.packs[i] = packed;
    this.count++;
    return -1;
  }

  /** Removes the block at `address`; returns its packed facts (undefined: it was not live). */
  take(address: number): number | undefined {
    if (address === 0) {
      if (!this.hasZero) return undefined;
      this.hasZero = false;
      return this.zeroPack;
    }
    let i = this.find(address);
    if (i < 0) return undefined;
    const { keys, seqs, packs } = this;
    const out = packs[i] as number;
    const mask = keys.length - 1;
    // Backward shift: move later members of the cluster into the hole when their home allows.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j] as number;
      if (k === 0) break;
      const h = this.home(k);
      // j's entry may move to i unless its home lies cyclically in (i, j]
      const stays = i <= j ? h > i && h <= j : h > i || h <= j;
      if (stays) continue;
      keys[i] = k;
      seqs[i] = seqs[j] as number;
      packs[i] = packs[j] as number;
      i = j;
    }
    keys[i] = 0;
    this.count--;
    return out;
  }

  clear(): void {
    this.keys.fill(0);
    this.count = 0;
    this.hasZero = false;
  }

  /**
   * A copy of the set as LiveArrays (dense: one entry a block), into `reuse`'s arrays when they
   * have room (no fresh memory: a copy of a large set into new arrays cost more in page faults
   * than in copying), else into new ones with room to grow.
   */
  copyInto(reuse?: LiveArrays): LiveArrays {
    const n = this.size;
    const out: LiveArrays =
      reuse && reuse.copy && reuse.addr.length >= n
        ? reuse
        : {
            addr: new Float64Array(Math.ceil(n * 1.25) + 16),
            seq: new Float64Array(Math.ceil(n * 1.25) + 16),
            packed: new Float64Array(Math.ceil(n * 1.25) + 16),
            length: 0,
            copy: true,
          };
    const { addr, seq, packed } = out;
    let j = 0;
    if (this.hasZero) {
      addr[0] = 0;
      seq[0] = this.zeroSeq;
      packed[0] = this.zeroPack;
      j = 1;
    }
    const { keys, seqs, packs } = this;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k === 0) continue;
      addr[j] = k;
      seq[j] = seqs[i] as number;
      packed[j++] = packs[i] as number;
    }
    out.length = j;
    return out;
  }

  /** [address, alloc seq] pairs (order not defined), as the set was when iteration started. */
  *entries(): IterableIterator<[number, number]> {
    const keys = this.keys.slice();
    const seqs = this.seqs.slice();
    if (this.hasZero) yield [0, this.zeroSeq];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k !== 0) yield [k, seqs[i] as number];
    }
  }

  [Symbol.iterator](): IterableIterator<[number, number]> {
    return this.entries();
  }

  /** Calls fn(address, seq, packed) for every live block (fn must not change the set). */
  forEach(fn: (address: number, seq: number, packed: number) => void): void {
    if (this.hasZero) fn(0, this.zeroSeq, this.zeroPack);
    const { keys, seqs, packs } = this;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k !== 0) fn(k, seqs[i] as number, packs[i] as number);
    }
  }
}

export class Ledger {
  private readonly totals = new Float64Array(T_FIELDS);
  private readonly apiRows = new Float64Array(API_ROWS * R_FIELDS);
  private readonly classRows = new Float64Array(CLASS_ROWS * R_FIELDS);
  private readonly sizeRows = new Float64Array(SIZE_BUCKETS * R_FIELDS);
  private readonly problemCounts = new Float64Array(PROBLEM_KINDS.length);
  /** address → seq of the Alloc event and packed size/api/class. */
  private readonly liveBlocksSet = new LiveSet();
  /**
   * A state whose live set is not filled in yet (fromState): the counts are there at once, the
   * live set is built the first time it is read (a page reading only the counts never pays it).
   */
  private pendingLive: LedgerState | null = null;

  private get liveSet(): LiveSet {
    const c = this.pendingLive;
    if (c) {
      this.pendingLive = null;
      this.liveBlocksSet.reserve(c.liveAddr.length);
      for (let j = 0; j < c.liveAddr.length; j++)
        this.liveBlocksSet.set(
          c.liveAddr[j] as number,
          c.liveSeq[j] as number,
          c.livePacked[j] as number,
        );
    }
    return this.liveBlocksSet;
  }

  private liveCount(): number {
    return this.pendingLive ? this.pendingLive.liveAddr.length : this.liveBlocksSet.size;
  }
  private readonly checkpoints: Checkpoint[] = [];
  /** Seqs of blocks live at the last checkpoint that were freed since (checkpoints only). */
  private removedSince: number[] = [];

  /** @param checkpointEvery K: keep a copy of the state after every K events (0: none). */
  constructor(readonly checkpointEvery = 0) {
    if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0)
      throw new RangeError('checkpointEvery must be a non-negative integer');
  }

  /** Events folded so far (= seq of the next event). */
  get events(): number {
    return this.totals[T_EVENTS] as number;
  }
  get liveBlockCount(): number {
    return this.liveCount();
  }
  get liveBytes(): number {
    return this.totals[T_LIVE_BYTES] as number;
  }

  /**
   * Folds events `from` … `to − 1` of `src`. Events come in order and without gaps: index i of
   * `src` is the event whose seq is `events` (before the call) + i − from.
   */
  fold(src: LedgerEvents, from: number, to: number): void {
    if (this.checkpointEvery > 0) {
      for (let i = from; i < to; i++) this.foldEvent(src, i);
      return;
    }
    // Without checkpoints: the events that only count (walk steps, markers, positions… most of
    // a walk's stream) cost one table lookup each.
    const t = this.totals;
    let seq = t[T_EVENTS] as number;
    for (let i = from; i < to; i++, seq++)
      if (COUNT_ONLY[src.kind(i)] !== 1) this.foldOne(src, i, seq);
    t[T_EVENTS] = seq;
  }

  /** Folds event `i` of `src` (the event whose seq is `events`): fold() for one event. */
  foldEvent(src: LedgerEvents, i: number): void {
    const t = this.totals;
    const seq = t[T_EVENTS] as number;
    this.foldOne(src, i, seq);
    t[T_EVENTS] = seq + 1;
    const K = this.checkpointEvery;
    if (K > 0 && (seq + 1) % K === 0) this.checkpoints.push(this.checkpoint());
  }

  private foldOne(src: LedgerEvents, i: number, seq: number): void {
    const t = this.totals;
    const k = src.kind(i);
    if (k === EventKind.Alloc) {
      const size = src.size(i);
      const addr = src.addressNumber(i);
      const api = apiRow(src.api(i));
      const cls = classRow(src.walkClass(i));
      // An Alloc of an address still live (only in a corrupt trace) replaces the old block.
      if (this.checkpointEvery > 0) this.noteRemoved(this.liveSet.get(addr));
      const replaced = this.liveSet.set(addr, seq, pack(size, api, cls));
      if (replaced >= 0) this.unliveFacts(replaced);
      add(t, T_ALLOCS, 1);
      add(t, T_BYTES_ALLOC, size);
      const live = add(t, T_LIVE_BYTES, size);
      if (live > (t[T_PEAK] as number)) t[T_PEAK] = live;
      const b = sizeBucket(size) * R_FIELDS;
      allocRow(this.apiRows, api * R_FIELDS, size);
      allocRow(this.classRows, cls * R_FIELDS, size);
      allocRow(this.sizeRows, b, size);
    } else if (k === EventKind.Free) {
      const addr = src.addressNumber(i);
      const size = this.unlive(addr);
      if (size < 0) {
        add(t, T_UNMATCHED, 1);
        return;
      }
      add(t, T_FREES, 1);
      add(t, T_BYTES_FREED, size);
      const ra = apiRow(src.api(i)) * R_FIELDS;
      const rc = classRow(src.walkClass(i)) * R_FIELDS;
      add(this.apiRows, ra + R_FREES, 1);
      add(this.apiRows, ra + R_FREE_BYTES, size);
      add(this.classRows, rc + R_FREES, 1);
      add(this.classRows, rc + R_FREE_BYTES, size);
      const rs = sizeBucket(size) * R_FIELDS;
      add(this.sizeRows, rs + R_FREES, 1);
      add(this.sizeRows, rs + R_FREE_BYTES, size);
    } else if (k === EventKind.FreeNull) {
      add(t, T_FREE_NULLS, 1);
      add(this.apiRows, apiRow(src.api(i)) * R_FIELDS + R_FREE_NULLS, 1);
      add(this.classRows, classRow(src.walkClass(i)) * R_FIELDS + R_FREE_NULLS, 1);
    } else if (k === EventKind.AllocFailed) {
      add(t, T_FAILS, 1);
      add(this.apiRows, apiRow(src.api(i)) * R_FIELDS + R_FAILS, 1);
      add(this.classRows, classRow(src.walkClass(i)) * R_FIELDS + R_FAILS, 1);
      add(this.sizeRows, sizeBucket(src.size(i)) * R_FIELDS + R_FAILS, 1);
    } else if (k === EventKind.ApiError) {
      add(t, T_API_ERRORS, 1);
      add(this.apiRows, apiRow(src.api(i)) * R_FIELDS + R_API_ERRORS, 1);
      add(this.classRows, classRow(src.walkClass(i)) * R_FIELDS + R_API_ERRORS, 1);
    } else if (k === EventKind.Leak) {
      add(t, T_LEAKS, 1);
    } else if (isViolation(k) && EVENT_KIND_NAMES[k] !== undefined) {
      add(t, T_VIOLATIONS, 1);
    }
    const slot = PROBLEM_SLOT[k] as number;
    if (slot >= 0) add(this.problemCounts, slot, 1);
  }

  /** Removes a live block from the live set and its rows; returns its size (−1: not live). */
  private unlive(addr: number): number {
    if (this.checkpointEvery > 0) this.noteRemoved(this.liveSet.get(addr));
    const p = this.liveSet.take(addr);
    return p === undefined ? -1 : this.unliveFacts(p);
  }

  /** A block (its Alloc's seq) stops being live: the next checkpoint lists it if it is older. */
  private noteRemoved(seq: number | undefined): void {
    const last = this.checkpoints[this.checkpoints.length - 1];
    if (seq !== undefined && last && seq < last.events) this.removedSince.push(seq);
  }

  /** Takes a block that is no longer live (packed facts `p`) off the rows; returns its size. */
  private unliveFacts(p: number): number {
    const size = unpackSize(p);
    add(this.totals, T_LIVE_BYTES, -size);
    unliveRow(this.apiRows, unpackApi(p) * R_FIELDS, size);
    unliveRow(this.classRows, unpackCls(p) * R_FIELDS, size);
    unliveRow(this.sizeRows, sizeBucket(size) * R_FIELDS, size);
    return size;
  }

  private capture(): LedgerState {
    const n = this.liveSet.size;
    const liveAddr = new Float64Array(n);
    const liveSeq = new Float64Array(n);
    const livePacked = new Float64Array(n);
    let j = 0;
    this.liveSet.forEach((addr, seq, packed) => {
      liveAddr[j] = addr;
      liveSeq[j] = seq;
      livePacked[j] = packed;
      j++;
    });
    return {
      events: this.events,
      totals: this.totals.slice(),
      apiRows: this.apiRows.slice(),
      classRows: this.classRows.slice(),
      sizeRows: this.sizeRows.slice(),
      problemCounts: this.problemCounts.slice(),
      liveAddr,
      liveSeq,
      livePacked,
    };
  }

  private checkpoint(): Checkpoint {
    const events = this.events;
    const prev = this.checkpoints[this.checkpoints.length - 1];
    const full = !prev || this.checkpoints.length % FULL_EVERY === 0;
    const since = prev ? prev.events : 0;
    let live: Uint32Array | Float64Array | null = null;
    const added: number[] = [];
    if (full) {
      live = seqArray(this.liveCount(), events);
      let j = 0;
      const all = live;
      this.forEachPacked((_addr, seq) => {
        all[j++] = seq;
      });
    } else {
      this.forEachPacked((_addr, seq) => {
        if (seq >= since) added.push(seq);
      });
    }
    const removed = seqArray(full ? 0 : this.removedSince.length, events);
    if (!full) removed.set(this.removedSince);
    this.removedSince = [];
    const addedArr = seqArray(added.length, events);
    addedArr.set(added);
    return {
      events,
      totals: this.totals.slice(),
      apiRows: this.apiRows.slice(),
      classRows: this.classRows.slice(),
      sizeRows: this.sizeRows.slice(),
      problemCounts: this.problemCounts.slice(),
      live,
      added: addedArr,
      removed,
    };
  }

  /**
   * Restores checkpoint j: the full checkpoint at or below it, then the changes of those after
   * it; the live blocks' facts are read from `src` (indexed by seq).
   */
  private restoreCheckpoint(from: Ledger, j: number, src: LedgerEvents): void {
    const c = from.checkpoints[j] as Checkpoint;
    this.totals.set(c.totals);
    this.apiRows.set(c.apiRows);
    this.classRows.set(c.classRows);
    this.sizeRows.set(c.sizeRows);
    this.problemCounts.set(c.problemCounts);
    this.pendingLive = null;
    const set = this.liveBlocksSet;
    set.clear();
    const put = (seq: number): void => {
      set.set(
        src.addressNumber(seq),
        seq,
        pack(src.size(seq), apiRow(src.api(seq)), classRow(src.walkClass(seq))),
      );
    };
    let f = j;
    while (f > 0 && !from.checkpoints[f]?.live) f--;
    const full = (from.checkpoints[f] as Checkpoint).live ?? [];
    set.reserve(full.length);
    for (const seq of full) put(seq);
    for (let i = f + 1; i <= j; i++) {
      const d = from.checkpoints[i] as Checkpoint;
      for (const seq of d.removed) {
        const addr = src.addressNumber(seq);
        if (set.get(addr) === seq) set.take(addr);
      }
      for (const seq of d.added) put(seq);
    }
  }

  /** The state now, as plain typed arrays (their buffers may be transferred). */
  snapshot(): LedgerState {
    return this.capture();
  }

  /** A ledger (without checkpoints) in the state `s` holds. */
  static fromState(s: LedgerState): Ledger {
    const l = new Ledger(0);
    l.totals.set(s.totals);
    l.apiRows.set(s.apiRows);
    l.classRows.set(s.classRows);
    l.sizeRows.set(s.sizeRows);
    l.problemCounts.set(s.problemCounts);
    l.pendingLive = s;
    return l;
  }

  /** Number of checkpoints kept (checkpoint j holds the state after (j + 1) · K events). */
  get checkpointCount(): number {
    return this.checkpoints.length;
  }

  /** A ledger (without checkpoints) in the state checkpoint j holds (`src` indexed by seq). */
  checkpointState(j: number, src: LedgerEvents): Ledger {
    const c = this.checkpoints[j];
    if (!c) throw new RangeError(`no checkpoint ${j}`);
    const l = new Ledger(0);
    l.restoreCheckpoint(this, j, src);
    return l;
  }

  /**
   * The state after the first `n` events (0 ≤ n ≤ events), rebuilt from the nearest
   * checkpoint at or below n and the events after it, read from `src` (indexed by seq).
   * Costs one copy of that checkpoint (its live blocks' facts read from `src`) and fewer than
   * K events of folding.
   */
  stateAt(n: number, src: LedgerEvents): Ledger {
    if (!Number.isInteger(n) || n < 0 || n > this.events)
      throw new RangeError(`stateAt(${n}): the ledger holds events 0…${this.events}`);
    const l = new Ledger(0);
    const K = this.checkpointEvery;
    const j = K > 0 ? Math.floor(n / K) - 1 : -1;
    if (j >= 0 && this.checkpoints[j]) l.restoreCheckpoint(this, j, src);
    l.fold(src, l.events, n);
    return l;
  }

  /**
   * The whole state as bytes (the trace file's checkpoint, src-main/trace/trace-file.ts):
   *
   *   u32 × 8  magic "LGST", format 1, T, API rows, class rows, size buckets, row fields,
   *            problem kinds                                   (the shape, checked on read)
   *   u32 × 2  live blocks n, 0
   *   f64 ×    totals, API rows, class rows, size rows, problem counts
   *   f64 × n  live addresses, then n alloc seqs, then n packed facts (size·64 + api·8 + class)
   *
   * Little-endian. Ledger.fromBytes reads it back, validated.
   */
  exportBytes(): Uint8Array<ArrayBuffer> {
    const c = this.capture();
    const n = c.liveAddr.length;
    const fixed =
      T_FIELDS + (API_ROWS + CLASS_ROWS + SIZE_BUCKETS) * R_FIELDS + PROBLEM_KINDS.length;
    const out = new ArrayBuffer(STATE_HEADER_BYTES + (fixed + 3 * n) * 8);
    const dv = new DataView(out);
    STATE_SHAPE.forEach((v, i) => dv.setUint32(i * 4, v, true));
    dv.setUint32(32, n, true);
    let at = STATE_HEADER_BYTES;
    for (const a of [
      c.totals,
      c.apiRows,
      c.classRows,
      c.sizeRows,
      c.problemCounts,
      c.liveAddr,
      c.liveSeq,
      c.livePacked,
    ])
      for (let i = 0; i < a.length; i++, at += 8) dv.setFloat64(at, a[i] as number, true);
    return new Uint8Array(out);
  }

  /**
   * A ledger (without checkpoints) in the state `bytes` holds (exportBytes). Checks the shape,
   * that every number is a whole number in range, and that the live set agrees with the totals
   * and rows (count and bytes); anything else is a LedgerStateError naming what.
   */
  static fromBytes(bytes: Uint8Array): Ledger {
    const bad = (what: string): never => {
      throw new LedgerStateError(`ledger state: ${what}`);
    };
    if (bytes.byteLength < STATE_HEADER_BYTES) bad(`only ${bytes.byteLength} bytes`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    STATE_SHAPE.forEach((v, i) => {
      if (dv.getUint32(i * 4, true) !== v)
        bad(i < 2 ? 'not a ledger state of format 1' : "its shape is not this ledger's");
    });
    const n = dv.getUint32(32, true);
    const fixed =
      T_FIELDS + (API_ROWS + CLASS_ROWS + SIZE_BUCKETS) * R_FIELDS + PROBLEM_KINDS.length;
    if (bytes.byteLength !== STATE_HEADER_BYTES + (fixed + 3 * n) * 8)
      bad(`${bytes.byteLength} bytes for ${n} live blocks`);
    let at = STATE_HEADER_BYTES;
    const read = (len: number, what: string): Float64Array => {
      const a = new Float64Array(len);
      for (let i = 0; i < len; i++, at += 8) {
        const v = dv.getFloat64(at, true);
        if (!Number.isSafeInteger(v)) bad(`${what} value ${v} is not a whole number`);
        a[i] = v;
      }
      return a;
    };
    const c: LedgerState = {
      events: 0,
      totals: read(T_FIELDS, 'a total'),
      apiRows: read(API_ROWS * R_FIELDS, 'an API row'),
      classRows: read(CLASS_ROWS * R_FIELDS, 'a class row'),
      sizeRows: read(SIZE_BUCKETS * R_FIELDS, 'a size row'),
      problemCounts: read(PROBLEM_KINDS.length, 'a problem count'),
      liveAddr: read(n, 'a live address'),
      liveSeq: read(n, "a live block's seq"),
      livePacked: read(n, "a live block's facts"),
    };
    const events = c.totals[T_EVENTS] as number;
    if (events < 0) bad(`${events} events`);
    c.events = events;
    let liveBytes = 0;
    for (let j = 0; j < n; j++) {
      const p = c.livePacked[j] as number;
      const addr = c.liveAddr[j] as number;
      const seq = c.liveSeq[j] as number;
      if (addr < 0 || seq < 0 || seq >= events)
        bad(`live block ${j} (seq ${seq}) is not one of the ${events} events`);
      if (p < 0 || p >= 2 ** 38 || unpackApi(p) >= API_ROWS || unpackCls(p) >= CLASS_ROWS)
        bad(`live block ${j} has impossible facts`);
      liveBytes += unpackSize(p);
    }
    let rowBlocks = 0;
    for (let b = 0; b < SIZE_BUCKETS; b++)
      rowBlocks += c.sizeRows[b * R_FIELDS + R_LIVE_BLOCKS] as number;
    if (liveBytes !== c.totals[T_LIVE_BYTES] || rowBlocks !== n)
      bad(`the live set (${n} blocks, ${liveBytes} bytes) disagrees with the totals`);
    const l = Ledger.fromState(c);
    if (l.live.size !== n) bad('a live address appears twice'); // (builds the live set)
    return l;
  }

  /** The live set: address → seq of its Alloc event (read-only; mutated as events fold). */
  get live(): LiveSet {
    return this.liveSet;
  }

  /** Seq of the Alloc of the live block at `address`, or undefined. */
  allocSeqOf(address: number): number | undefined {
    return this.liveSet.get(address);
  }

  /** Calls fn for every live block (address order is not defined). */
  forEachLive(fn: (address: number, size: number, seq: number) => void): void {
    this.forEachPacked((addr, seq, packed) => fn(addr, unpackSize(packed), seq));
  }

  /** fn(address, seq, packed) per live block; a posted state's arrays are read as they are. */
  private forEachPacked(fn: (address: number, seq: number, packed: number) => void): void {
    const c = this.pendingLive;
    if (!c) return this.liveBlocksSet.forEach(fn);
    for (let j = 0; j < c.liveAddr.length; j++)
      fn(c.liveAddr[j] as number, c.liveSeq[j] as number, c.livePacked[j] as number);
  }

  /**
   * The live blocks as arrays (LiveArrays): a posted state's own arrays as they are (its set is
   * not built), else a copy of the live set (into `reuse`'s arrays if it is a copy with room).
   */
  liveArrays(reuse?: LiveArrays): LiveArrays {
    const c = this.pendingLive;
    if (!c) return this.liveBlocksSet.copyInto(reuse);
    return {
      addr: c.liveAddr,
      seq: c.liveSeq,
      packed: c.livePacked,
      length: c.liveAddr.length,
      copy: false,
    };
  }

  /** Live blocks, sorted by address. */
  liveBlocks(): LedgerBlock[] {
    const out: LedgerBlock[] = [];
    this.forEachPacked((addr, seq, p) =>
      out.push({ address: addr, size: unpackSize(p), seq, api: unpackApi(p), cls: unpackCls(p) }),
    );
    return out.sort((a, b) => a.address - b.address);
  }

  /** Copies the per-size allocation counts and bytes (index = size bucket) into the arrays. */
  sizeColumns(allocations: Float64Array, allocBytes: Float64Array): void {
    for (let b = 0; b < SIZE_BUCKETS; b++) {
      allocations[b] = this.sizeRows[b * R_FIELDS + R_ALLOCS] as number;
      allocBytes[b] = this.sizeRows[b * R_FIELDS + R_ALLOC_BYTES] as number;
    }
  }

  problemCount(kind: ProblemKindName): number {
    return this.problemCounts[PROBLEM_KINDS.indexOf(kind)] as number;
  }

  get problems(): number {
    let n = 0;
    for (const v of this.problemCounts) n += v;
    return n;
  }

  /** Every number, as plain JSON-able data. */
  summary(): LedgerSummary {
    const t = this.totals;
    const v = (f: number): number => t[f] as number;
    const row = (rows: Float64Array, r: number): LedgerRow => {
      const o = r * R_FIELDS;
      return {
        allocations: rows[o + R_ALLOCS] as number,
        allocBytes: rows[o + R_ALLOC_BYTES] as number,
        failures: rows[o + R_FAILS] as number,
        frees: rows[o + R_FREES] as number,
        freeBytes: rows[o + R_FREE_BYTES] as number,
        freeNulls: rows[o + R_FREE_NULLS] as number,
        apiErrors: rows[o + R_API_ERRORS] as number,
        liveBlocks: rows[o + R_LIVE_BLOCKS] as number,
        liveBytes: rows[o + R_LIVE_BYTES] as number,
      };
    };
    const byApi = {} as Record<ApiCallName, LedgerRow>;
    for (let a = 0; a < API_ROWS; a++)
      byApi[API_CALL_NAMES[a] as ApiCallName] = row(this.apiRows, a);
    const byClass = {} as Record<WalkClassKey, LedgerRow>;
    WALK_CLASS_KEYS.forEach((name, c) => (byClass[name] = row(this.classRows, c)));
    const problemsByKind = {} as Record<ProblemKindName, number>;
    PROBLEM_KINDS.forEach(
      (name, i) => (problemsByKind[name as ProblemKindName] = this.problemCounts[i] as number),
    );
    const violationsByKind = {} as Record<ViolationKindName, number>;
    for (const name of VIOLATION_KINDS) violationsByKind[name] = problemsByKind[name];
    const col = (f: number): number[] =>
      Array.from({ length: SIZE_BUCKETS }, (_, b) => this.sizeRows[b * R_FIELDS + f] as number);
    return {
      events: v(T_EVENTS),
      allocations: v(T_ALLOCS),
      allocationFailures: v(T_FAILS),
      frees: v(T_FREES),
      freeNulls: v(T_FREE_NULLS),
      unmatchedFrees: v(T_UNMATCHED),
      bytesAllocated: v(T_BYTES_ALLOC),
      bytesFreed: v(T_BYTES_FREED),
      liveBlocks: this.liveCount(),
      liveBytes: v(T_LIVE_BYTES),
      peakLiveBytes: v(T_PEAK),
      violations: v(T_VIOLATIONS),
      leaks: v(T_LEAKS),
      apiErrors: v(T_API_ERRORS),
      problems: this.problems,
      violationsByKind,
      problemsByKind,
      byApi,
      byClass,
      bySize: {
        allocations: col(R_ALLOCS),
        allocBytes: col(R_ALLOC_BYTES),
        liveBlocks: col(R_LIVE_BLOCKS),
        liveBytes: col(R_LIVE_BYTES),
      },
    };
  }
}

/** a[i] += v; returns the new value. */
function add(a: Float64Array, i: number, v: number): number {
  return (a[i] = (a[i] as number) + v);
}

function allocRow(rows: Float64Array, o: number, size: number): void {
  add(rows, o + R_ALLOCS, 1);
  add(rows, o + R_ALLOC_BYTES, size);
  add(rows, o + R_LIVE_BLOCKS, 1);
  add(rows, o + R_LIVE_BYTES, size);
}

function unliveRow(rows: Float64Array, o: number, size: number): void {
  add(rows, o + R_LIVE_BLOCKS, -1);
  add(rows, o + R_LIVE_BYTES, -size);
}

/** The ledger of one batch-or-more of events, folded from scratch (tests, tools). */
export function ledgerOf(batches: Iterable<LedgerEvents & { count: number }>): Ledger {
  const l = new Ledger(0);
  for (const b of batches) l.fold(b, 0, b.count);
  return l;
}

/** An empty summary (a session that made no event). */
export function emptyLedgerSummary(): LedgerSummary {
  return new Ledger(0).summary();
}
