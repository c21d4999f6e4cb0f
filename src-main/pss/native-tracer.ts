/**
 * The native tracer (liballoctrace): the allocator strategies and the tracer in C, so that
 * libpss calls AllocRoutine/FreeRoutine as plain C function pointers and no JavaScript runs
 * per allocation. Every routine call and every marker event becomes a 48-byte record
 * (src-shared/events/layout.ts) in a ring of native memory that this module reads in place
 * through one ArrayBuffer view made when the ring is allocated: draining a batch is one copy
 * of the batch's bytes into a transferable ArrayBuffer, never a call or a decode per event.
 *
 *   const t = NativeTracer.create(options, timeOffsetNs, onBatch);
 *   t.enter(ApiCall.PssWalkMarkerCreate); marker = WalkMarker.create(t); t.leave(code);
 *   t.markerCreated();
 *   code = t.walk(snapshot, marker, cls, index);   // enter + PssWalkSnapshot + leave + event
 *   t.enter(ApiCall.PssWalkMarkerFree); marker.free(); t.leave(code); t.markerFreed();
 *   t.flush(); t.summary(); t.release(); t.destroy();
 *
 * The tracer's semantics are src-main/alloc's (tracer.ts and the strategies), event for event;
 * liballoctrace/tests and native-tracer.test.ts check them.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { AtError, NativeTracerError } from './errors';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiCall,
  EVENT_SIZE,
  NO_CLASS,
  StrategyId,
  FAULTY_BIT,
} from '../../src-shared/events/layout';
import type { ApiCallName } from '../../src-shared/events/layout';
import type { AllocatorOptions, BaseAllocatorOptions } from '../../src-shared/alloc/options';
import { DEFAULT_FAULTY_SEED } from '../../src-shared/alloc/options';
import { VIOLATION_KINDS, WALK_CLASS_KEYS } from '../../src-shared/alloc/stats';
import type {
  AllocatorStats,
  BreakdownRow,
  StrategyFacts,
  TraceSummary,
  ViolationKindName,
  WalkClassKey,
} from '../../src-shared/alloc/stats';
import type { WalkableClass } from '../../src-shared/pss/constants';
import { loadPss } from './library';
import { nativeMemory } from './native-memory';
import { RING_HEAD, RING_HEADER, RING_OVERFLOW, RING_TAIL } from './ring-format';
import { WALK_CLASSES, type Snapshot, type WalkMarker } from './snapshot';

/** Records a ring holds (8,192 × 48 B = 384 KiB; drained from 4,096 on); a power of two. */
export const RING_EVENTS = 8192;
/** Events per batch handed to onBatch (as the JS EventWriter's batches). */
export const NATIVE_BATCH_EVENTS = 4096;
const RING_BYTES = RING_HEADER + RING_EVENTS * EVENT_SIZE;
/** Free rings kept for the next session (each has its one view; koffi views are not free). */
const RING_POOL_MAX = 8;
const H_HEAD = RING_HEAD;
const H_TAIL = RING_TAIL;
const H_OVERFLOW = RING_OVERFLOW;
/** Ring header word: the code of the last call at_step_n made (alloctrace.h). */
const H_LAST_CODE = 4;
/** Most steps one walkMany call makes (its entries stay readable until the next one). */
export const WALK_MANY_MAX = 256;

const S = {
  events: 0,
  allocations: 1,
  failures: 2,
  frees: 3,
  freeNulls: 4,
  bytesAllocated: 5,
  bytesFreed: 6,
  liveBytes: 7,
  peakLiveBytes: 8,
  outstandingBlocks: 9,
  markerLive: 10,
  released: 11,
  releasePending: 12,
  violations: 13,
  byApi: 20,
  byClass: 76,
  strategy: 124,
  facts: 134,
  faults: 150,
  pool: 156,
  count: 316,
} as const;

interface AtFunctions {
  create(
    config: Record<string, unknown>,
    ring: bigint,
    capacity: number,
    timeOffsetNs: number,
    out: [bigint | null],
    err: Uint8Array,
    errLen: number,
  ): number;
  destroy(t: bigint): void;
  setOrigin(t: bigint, originMonoNs: number): void;
  clockSource(): number;
  allocator(t: bigint): bigint;
  enter(t: bigint, api: number, cls: number): void;
  leave(t: bigint, code: number): void;
  markerCreated(t: bigint): void;
  walkStep(t: bigint, cls: number, index: number, code: number): void;
  walkEnd(t: bigint, cls: number, count: number): void;
  position(t: bigint, set: number, lo: number, hi: number): void;
  seek(t: bigint): void;
  apiError(t: bigint, api: number, code: number): void;
  walk(
    t: bigint,
    fn: bigint,
    snapshot: bigint,
    cls: number,
    marker: bigint,
    buffer: bigint,
    length: number,
    index: number,
  ): number;
  bindWalk(t: bigint, fn: bigint, snapshot: bigint, marker: bigint, buffer: bigint): number;
  step(slot: number, cls: number, length: number, index: number): number;
  bindBatch(slot: number, area: bigint, bytes: number): number;
  stepN(slot: number, cls: number, length: number, index: number, max: number): number;
  markerFreed(t: bigint): void;
  release(t: bigint): number;
  drainOverflow(t: bigint, dst: ArrayBuffer, max: number): number;
  stats(t: bigint, out: Float64Array, n: number): number;
  checkLibrary(path: string, err: Uint8Array, errLen: number): number;
  resolve(module: string, symbol: string): bigint | null;
  mapRing(path: string, bytes: number): bigint | null;
  unmapRing(ring: bigint, bytes: number): void;
  version(): number;
}

interface LoadedTracer {
  path: string;
  fn: AtFunctions;
  configType: TypeObject;
}

/**
 * Where liballoctrace is: $PSS_ALLOCTRACE_LIBRARY, the packaged app's resources, or the
 * source tree's liballoctrace/build (walking up from this module).
 */
export function findAlloctrace(): string {
  const fromEnv = process.env['PSS_ALLOCTRACE_LIBRARY'];
  if (fromEnv) return fromEnv;
  const name = process.platform === 'win32' ? 'alloctrace.dll' : 'liballoctrace.so';
  const candidates: string[] = [];
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) candidates.push(join(resourcesPath, 'liballoctrace', name));
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    candidates.push(join(dir, 'liballoctrace', 'build', name));
    dir = resolve(dir, '..');
  }
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new NativeTracerError(
      `${name} was not found (looked in ${candidates.join(', ')}). Build it with "npm run build:native" (needs gcc and make), or set PSS_ALLOCTRACE_LIBRARY.`,
      AtError.UNAVAILABLE,
    );
  }
  return found;
}

let loaded: LoadedTracer | null = null;

function loadTracer(): LoadedTracer {
  if (loaded) return loaded;
  const path = findAlloctrace();
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new NativeTracerError(
      `could not load ${path}: ${(e as Error).message}`,
      AtError.UNAVAILABLE,
    );
  }
  const configType = koffi.struct('at_config', {
    strategy: 'uint32_t',
    marker_id: 'uint32_t',
    arena_capacity: 'uint32_t',
    red_zone: 'uint32_t',
    blocks_per_slab: 'uint32_t',
    pool_class_count: 'uint32_t',
    pool_classes: koffi.array('uint32_t', 32),
    faulty: 'uint32_t',
    seed: 'uint32_t',
    fail_probability: 'double',
    budget_bytes: 'double',
    fail_nth: 'const uint32_t *',
    fail_nth_count: 'uint32_t',
    reserved: 'uint32_t',
    user_library: 'const char *',
  });
  const T = 'void *';
  const f = (proto: string): never => lib.func(proto) as never;
  const fn: AtFunctions = {
    create: f(
      `int at_create(const at_config *config, void *ring, uint32_t capacity, double time_offset_ns, _Out_ void **out, _Out_ uint8_t *err, uint32_t err_len)`,
    ),
    destroy: f(`void at_destroy(${T} t)`),
    setOrigin: f(`void at_set_origin(${T} t, double origin_mono_ns)`),
    clockSource: f(`int at_clock_source(void)`),
    allocator: f(`void *at_allocator(${T} t)`),
    enter: f(`void at_enter(${T} t, uint32_t api, uint32_t walk_class)`),
    leave: f(`void at_leave(${T} t, uint32_t code)`),
    markerCreated: f(`void at_marker_created(${T} t)`),
    walkStep: f(`void at_walk_step(${T} t, uint32_t cls, uint32_t index, uint32_t code)`),
    walkEnd: f(`void at_walk_end(${T} t, uint32_t cls, uint32_t count)`),
    position: f(`void at_position(${T} t, uint32_t set, uint32_t lo, uint32_t hi)`),
    seek: f(`void at_seek(${T} t)`),
    apiError: f(`void at_api_error(${T} t, uint32_t api, uint32_t code)`),
    walk: f(
      `uint32_t at_walk(${T} t, void *fn, void *snapshot, int32_t cls, void *marker, void *buffer, uint32_t length, uint32_t index)`,
    ),
    bindWalk: f(
      `uint32_t at_bind_walk(${T} t, void *fn, void *snapshot, void *marker, void *buffer)`,
    ),
    step: f(`uint32_t at_step(uint32_t slot, int32_t cls, uint32_t length, uint32_t index)`),
    bindBatch: f(`uint32_t at_bind_batch(uint32_t slot, void *area, uint32_t bytes)`),
    stepN: f(
      `uint32_t at_step_n(uint32_t slot, int32_t cls, uint32_t length, uint32_t index, uint32_t max)`,
    ),
    markerFreed: f(`void at_marker_freed(${T} t)`),
    release: f(`int at_release(${T} t)`),
    drainOverflow: f(`uint32_t at_drain_overflow(${T} t, _Out_ void *dst, uint32_t max)`),
    stats: f(`uint32_t at_stats(${T} t, _Out_ double *out, uint32_t n)`),
    checkLibrary: f(`int at_check_library(const char *path, _Out_ uint8_t *err, uint32_t len)`),
    resolve: f(`void *at_resolve(const char *module, const char *symbol)`),
    mapRing: f(`void *at_map_ring(const char *path, uint32_t bytes)`),
    unmapRing: f(`void at_unmap_ring(void *ring, uint32_t bytes)`),
    version: f(`uint32_t at_version(void)`),
  };
  if (fn.version() !== 1)
    throw new NativeTracerError(
      `${path} is version ${fn.version()}, this app needs 1: rebuild it with "npm run build:native"`,
      AtError.UNAVAILABLE,
    );
  loaded = { path, fn, configType };
  return loaded;
}

function asPtr(p: unknown): bigint {
  if (typeof p === 'bigint') return p;
  if (typeof p === 'number') return BigInt(p);
  return 0n;
}

function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return Buffer.from(buf.subarray(0, end < 0 ? buf.length : end)).toString('utf8');
}

/**
 * What the native events' clock reads: 'tsc' (RDTSC converted to CLOCK_MONOTONIC ns, where the
 * TSC is invariant), 'monotonic' (clock_gettime at every event), 'qpc' (Windows).
 */
export function nativeClockSource(): 'monotonic' | 'tsc' | 'qpc' {
  const s = loadTracer().fn.clockSource();
  return s === 1 ? 'tsc' : s === 2 ? 'qpc' : 'monotonic';
}

/**
 * Checks that `path` is a loadable user allocator library (readable, a shared object of this
 * platform, exporting AllocRoutine and FreeRoutine) without keeping it loaded. Throws a
 * NativeTracerError naming the problem.
 */
export function checkUserLibrary(path: string): void {
  const { fn } = loadTracer();
  const err = new Uint8Array(1024);
  const rc = fn.checkLibrary(path, err, err.length);
  if (rc !== 0) throw new NativeTracerError(cString(err), rc);
}

// ---- rings ------------------------------------------------------------------------------

interface Ring {
  address: bigint;
  bytes: Uint8Array;
  header: Uint32Array;
  /** Mapped from a file (not pooled: unmapped when the tracer goes). */
  mapped: boolean;
}

/** Bytes of a ring file (header + records): what readRingFile expects. */
export const RING_FILE_BYTES = RING_BYTES;

const freeRings: Ring[] = [];

function takeRing(file?: string): Ring {
  if (file !== undefined) {
    const address = asPtr(loadTracer().fn.mapRing(file, RING_BYTES));
    if (address === 0n)
      throw new NativeTracerError(`could not map the event ring file ${file}`, AtError.MEMORY);
    const bytes = nativeMemory.view(address, RING_BYTES);
    return {
      address,
      bytes,
      header: new Uint32Array(bytes.buffer, bytes.byteOffset, 16),
      mapped: true,
    };
  }
  const r = freeRings.pop();
  if (r) return r;
  const address = nativeMemory.malloc(RING_BYTES);
  if (address === 0n) throw new NativeTracerError('no memory for the event ring', AtError.MEMORY);
  // One view for the ring's whole life (it is pooled, never freed while viewed).
  const bytes = nativeMemory.view(address, RING_BYTES);
  return {
    address,
    bytes,
    header: new Uint32Array(bytes.buffer, bytes.byteOffset, 16),
    mapped: false,
  };
}

function giveRing(r: Ring): void {
  if (r.mapped) loadTracer().fn.unmapRing(r.address, RING_BYTES);
  else if (freeRings.length < RING_POOL_MAX) freeRings.push(r);
  else nativeMemory.free(r.address);
}

// ---- the tracer -------------------------------------------------------------------------

interface BatchArea {
  address: bigint;
  buffer: ArrayBuffer;
  /** DataViews of entry k of each class size, made once. */
  views: Map<number, DataView[]>;
}
let batchArea: BatchArea | null = null;

/**
 * The area walkMany walks entries into: one per thread (the walks of a thread use it in turn:
 * its entries are read before the next walkMany), never freed while the thread lives.
 */
function theBatchArea(): BatchArea {
  if (batchArea) return batchArea;
  const bytes = WALK_MANY_MAX * Math.max(...Object.values(WALK_CLASSES).map((c) => c.size));
  const address = nativeMemory.malloc(bytes);
  if (address === 0n) throw new NativeTracerError('no memory for the walk batch', AtError.MEMORY);
  const view = nativeMemory.view(address, bytes);
  batchArea = { address, buffer: view.buffer as ArrayBuffer, views: new Map() };
  return batchArea;
}

let performanceOffsetNs: number | null = null;

/**
 * CLOCK_MONOTONIC ns at a performance.now() value. Both count on CLOCK_MONOTONIC (libuv's
 * hrtime), performance.now() from the process's time origin: the offset is read once, from the
 * tightest of 20 back-to-back readings (a reading of either costs ~0.2 µs, the first one far
 * more), so it is exact to tens of ns.
 */
function performanceToMonotonicNs(ms: number): number {
  if (performanceOffsetNs === null) {
    let best = Infinity;
    let offset = 0;
    for (let i = 0; i < 20; i++) {
      const a = performance.now();
      const h = Number(process.hrtime.bigint());
      const b = performance.now();
      if (b - a < best) {
        best = b - a;
        offset = h - ((a + b) / 2) * 1e6;
      }
    }
    performanceOffsetNs = offset;
  }
  return performanceOffsetNs + ms * 1e6;
}

let walkFn: bigint | null = null;

/** libpss's (or kernel32's) PssWalkSnapshot, for at_walk to call without JavaScript. */
function pssWalkSnapshot(): bigint {
  if (walkFn !== null) return walkFn;
  const pss = loadPss();
  const p = asPtr(loadTracer().fn.resolve(pss.path, 'PssWalkSnapshot'));
  if (p === 0n)
    throw new NativeTracerError(`PssWalkSnapshot not found in ${pss.path}`, AtError.UNAVAILABLE);
  walkFn = p;
  return p;
}

function configOf(options: AllocatorOptions, markerId: number): Record<string, unknown> {
  const base: BaseAllocatorOptions = options.strategy === 'faulty' ? options.inner : options;
  const poolClasses = new Array<number>(32).fill(0);
  const cfg: Record<string, unknown> = {
    strategy: StrategyId[base.strategy],
    marker_id: markerId,
    arena_capacity: base.strategy === 'arena' ? base.capacityBytes : 0,
    red_zone: base.strategy === 'guard' ? base.redZoneBytes : 0,
    blocks_per_slab: base.strategy === 'pool' ? base.blocksPerSlab : 0,
    pool_class_count: base.strategy === 'pool' ? base.classes.length : 0,
    pool_classes: poolClasses,
    faulty: 0,
    seed: 0,
    fail_probability: 0,
    budget_bytes: -1,
    fail_nth: null,
    fail_nth_count: 0,
    reserved: 0,
    user_library: base.strategy === 'user' ? base.libraryPath : null,
  };
  if (base.strategy === 'pool') base.classes.forEach((c, i) => (poolClasses[i] = c));
  if (options.strategy === 'faulty') {
    const nth = options.failNth ?? [];
    Object.assign(cfg, {
      faulty: 1,
      seed: options.seed ?? DEFAULT_FAULTY_SEED,
      fail_probability: options.failProbability ?? 0,
      budget_bytes: options.budgetBytes ?? -1,
      fail_nth: nth.length > 0 ? Uint32Array.from(nth) : null,
      fail_nth_count: nth.length,
    });
  }
  return cfg;
}

/** Something WalkMarker.create accepts as a ready-made native PSS_ALLOCATOR. */
export interface NativePssAllocator {
  /** @internal Address of the PSS_ALLOCATOR (valid while the tracer lives). */
  readonly pssAllocatorAddress: bigint;
}

export class NativeTracer implements NativePssAllocator {
  private handle: bigint;
  private ring: Ring | null;
  private readonly fn: AtFunctions;
  private readonly stats = new Float64Array(S.count);
  private drained = 0;
  /** at_bind_walk's slot for (boundSnapshot, boundMarker); 0 = not bound. */
  private slot = 0;
  private boundSnapshot: Snapshot | null = null;
  private boundMarker: WalkMarker | null = null;
  /** @internal */ readonly pssAllocatorAddress: bigint;

  private constructor(
    fn: AtFunctions,
    handle: bigint,
    ring: Ring,
    readonly options: AllocatorOptions,
    private readonly onBatch: (firstSeq: number, batch: ArrayBuffer) => void,
  ) {
    this.fn = fn;
    this.handle = handle;
    this.ring = ring;
    this.pssAllocatorAddress = asPtr(fn.allocator(handle));
  }

  /**
   * @param timeOffsetNs the events' clock at this moment (ns since the session started).
   * @param onBatch receives every batch of records, in order, with the seq of its first.
   */
  static create(
    options: AllocatorOptions,
    timeOffsetNs: number,
    onBatch: (firstSeq: number, batch: ArrayBuffer) => void,
    markerId = 1,
    /**
     * Put the ring in this (existing) file, mapped shared: after a crash of this process the
     * records it had not drained are still in the file (readRingFile). Linux only; ignored
     * elsewhere.
     */
    ringFile?: string,
    /**
     * The performance.now() value the session's clock counts from (its time 0): events then
     * carry exactly what (performance.now() - originMs) × 10^6 would read at their moment.
     * Without it, time 0 is timeOffsetNs before this call (off by the time the call took to
     * get here: a µs, far more on a function's first call).
     */
    originMs?: number,
  ): NativeTracer {
    // The session's time 0 on CLOCK_MONOTONIC: native events and the caller's clock share one
    // time base, with no gap for at_create's own time.
    const originMonoNs =
      originMs !== undefined
        ? performanceToMonotonicNs(originMs)
        : performanceToMonotonicNs(performance.now()) - timeOffsetNs;
    const { fn } = loadTracer();
    const ring = takeRing(process.platform === 'linux' ? ringFile : undefined);
    const out: [bigint | null] = [null];
    const err = new Uint8Array(1024);
    const rc = fn.create(
      configOf(options, markerId),
      ring.address,
      RING_EVENTS,
      timeOffsetNs,
      out,
      err,
      err.length,
    );
    if (rc !== 0) {
      giveRing(ring);
      throw new NativeTracerError(cString(err) || `at_create failed (${rc})`, rc);
    }
    fn.setOrigin(asPtr(out[0]), originMonoNs);
    return new NativeTracer(fn, asPtr(out[0]), ring, options, onBatch);
  }

  private get t(): bigint {
    if (this.handle === 0n) throw new Error('native tracer used after destroy()');
    return this.handle;
  }

  enter(api: number, walkClass: number = NO_CLASS): void {
    this.fn.enter(this.t, api, walkClass);
  }

  leave(code: number): void {
    this.fn.leave(this.t, code >>> 0);
  }

  markerCreated(): void {
    this.fn.markerCreated(this.t);
  }

  walkStep(walkClass: number, entryIndex: number, code: number): void {
    this.fn.walkStep(this.t, walkClass, entryIndex, code >>> 0);
  }

  walkEnd(walkClass: number, count: number): void {
    this.fn.walkEnd(this.t, walkClass, count);
  }

  positionGet(position: bigint): void {
    this.fn.position(this.t, 0, Number(position & 0xffffffffn), Number(position >> 32n));
  }

  positionSet(position: bigint): void {
    this.fn.position(this.t, 1, Number(position & 0xffffffffn), Number(position >> 32n));
  }

  seek(): void {
    this.fn.seek(this.t);
  }

  apiError(api: number, code: number): void {
    this.fn.apiError(this.t, api, code >>> 0);
  }

  /**
   * One PssWalkSnapshot on `cls` into the marker's buffer, bracketed and reported in C
   * (WalkStep / WalkEnd / ApiError): one native call per step, like an untraced walk.
   */
  walk(snapshot: Snapshot, marker: WalkMarker, cls: WalkableClass, entryIndex: number): number {
    this.bind(snapshot, marker);
    const c = WALK_CLASSES[cls];
    const code = this.fn.step(this.slot, c.value, c.size, entryIndex);
    const h = (this.ring as Ring).header;
    if (((h[H_HEAD] as number) - (h[H_TAIL] as number)) >>> 0 >= NATIVE_BATCH_EVENTS)
      this.drain(false);
    return code;
  }

  /**
   * Up to `max` (≤ WALK_MANY_MAX) walk steps of `cls` in one native call, entries
   * firstIndex, firstIndex + 1, ...: each step exactly as walk() makes it (bracketed, its
   * WalkStep / WalkEnd / ApiError event), the k-th entry walked into entryView(cls, k) rather
   * than the marker's buffer. Stops after the first step that does not return ERROR_SUCCESS.
   * Returns the number of steps made; the last one's code is `lastCode`.
   */
  walkMany(
    snapshot: Snapshot,
    marker: WalkMarker,
    cls: WalkableClass,
    firstIndex: number,
    max: number,
  ): number {
    this.bind(snapshot, marker);
    const c = WALK_CLASSES[cls];
    const n = this.fn.stepN(this.slot, c.value, c.size, firstIndex, Math.min(max, WALK_MANY_MAX));
    const h = (this.ring as Ring).header;
    if (((h[H_HEAD] as number) - (h[H_TAIL] as number)) >>> 0 >= NATIVE_BATCH_EVENTS)
      this.drain(false);
    return n;
  }

  /** The code of the last step walkMany made. */
  get lastCode(): number {
    return ((this.ring as Ring).header[H_LAST_CODE] as number) >>> 0;
  }

  /** Entry k of the last walkMany (valid until the next walkMany on this thread). */
  entryView(cls: WalkableClass, k: number): DataView {
    const area = theBatchArea();
    const size = WALK_CLASSES[cls].size;
    let views = area.views.get(size);
    if (!views) area.views.set(size, (views = []));
    return (views[k] ??= new DataView(area.buffer, k * size, size));
  }

  private bind(snapshot: Snapshot, marker: WalkMarker): void {
    if (snapshot.isFreed) throw new Error('snapshot used after PssFreeSnapshot');
    marker.assertLive();
    if (snapshot === this.boundSnapshot && marker === this.boundMarker && this.slot !== 0) return;
    // The pointers go to C once; each step then passes numbers only (koffi converts every
    // pointer argument, and that would cost more than the step's tracing).
    this.slot = this.fn.bindWalk(
      this.t,
      pssWalkSnapshot(),
      snapshot.raw,
      marker.raw,
      marker.entryBuffer,
    );
    if (this.slot === 0)
      throw new NativeTracerError('no free walk slot in liballoctrace', AtError.MEMORY);
    const area = theBatchArea();
    this.fn.bindBatch(this.slot, area.address, area.buffer.byteLength);
    this.boundSnapshot = snapshot;
    this.boundMarker = marker;
  }

  markerFreed(): void {
    this.fn.markerFreed(this.t);
  }

  /** Returns the strategy's memory; deferred (false) while the marker lives. */
  release(): boolean {
    return this.fn.release(this.t) !== 0;
  }

  /** Events written so far (drained or not). */
  get eventCount(): number {
    const h = this.ring?.header;
    if (!h) return this.drained;
    return (
      this.drained +
      (((h[H_HEAD] as number) - (h[H_TAIL] as number)) >>> 0) +
      (h[H_OVERFLOW] as number)
    );
  }

  /** Hands every pending record to onBatch. */
  flush(): void {
    this.drain(true);
  }

  private drain(all: boolean): void {
    const ring = this.ring;
    if (!ring) return;
    const h = ring.header;
    const mustEmpty = all || (h[H_OVERFLOW] as number) > 0;
    let tail = h[H_TAIL] as number;
    let n = ((h[H_HEAD] as number) - tail) >>> 0;
    while (n > 0 && (mustEmpty || n >= NATIVE_BATCH_EVENTS)) {
      const start = tail & (RING_EVENTS - 1);
      const k = Math.min(n, RING_EVENTS - start, NATIVE_BATCH_EVENTS);
      const from = RING_HEADER + start * EVENT_SIZE;
      const batch = ring.bytes.slice(from, from + k * EVENT_SIZE).buffer;
      tail = (tail + k) >>> 0;
      h[H_TAIL] = tail;
      n -= k;
      const first = this.drained;
      this.drained += k;
      this.onBatch(first, batch);
    }
    while (mustEmpty && (h[H_OVERFLOW] as number) > 0) {
      const want = Math.min(h[H_OVERFLOW] as number, NATIVE_BATCH_EVENTS);
      const batch = new ArrayBuffer(want * EVENT_SIZE);
      const got = this.fn.drainOverflow(this.t, batch, want);
      if (got === 0) break;
      const first = this.drained;
      this.drained += got;
      this.onBatch(first, got === want ? batch : batch.slice(0, got * EVENT_SIZE));
    }
  }

  private readStats(): Float64Array {
    this.fn.stats(this.t, this.stats, S.count);
    return this.stats;
  }

  /** The tracer's summary, in the JS TracedAllocator's shape. */
  summary(): TraceSummary {
    const s = this.readStats();
    const row = (o: number): BreakdownRow => ({
      calls: s[o] as number,
      errors: s[o + 1] as number,
      allocations: s[o + 2] as number,
      allocBytes: s[o + 3] as number,
      failures: s[o + 4] as number,
      frees: s[o + 5] as number,
      freeBytes: s[o + 6] as number,
      freeNulls: s[o + 7] as number,
    });
    const byApi = Object.fromEntries(
      Object.entries(ApiCall).map(([name, v]) => [name, row(S.byApi + v * 8)]),
    ) as Record<ApiCallName, BreakdownRow>;
    const byWalkClass = Object.fromEntries(
      WALK_CLASS_KEYS.map((name, i) => [name, row(S.byClass + i * 8)]),
    ) as Record<WalkClassKey, BreakdownRow>;
    const violations = Object.fromEntries(
      VIOLATION_KINDS.map((name, i) => [name, s[S.violations + i] as number]),
    ) as Record<ViolationKindName, number>;
    const code = this.strategyCode;
    return {
      markerId: 1,
      strategyCode: code,
      events: s[S.events] as number,
      allocations: s[S.allocations] as number,
      failures: s[S.failures] as number,
      frees: s[S.frees] as number,
      freeNulls: s[S.freeNulls] as number,
      bytesAllocated: s[S.bytesAllocated] as number,
      bytesFreed: s[S.bytesFreed] as number,
      liveBytes: s[S.liveBytes] as number,
      peakLiveBytes: s[S.peakLiveBytes] as number,
      outstandingBlocks: s[S.outstandingBlocks] as number,
      outstandingBytes: (s[S.bytesAllocated] as number) - (s[S.bytesFreed] as number),
      violations,
      callbackErrors: 0,
      byApi,
      byWalkClass,
      markerLive: s[S.markerLive] === 1,
      released: s[S.released] === 1,
      releasePending: s[S.releasePending] === 1,
    };
  }

  get strategyCode(): number {
    const o = this.options;
    const base = o.strategy === 'faulty' ? o.inner : o;
    return StrategyId[base.strategy] | (o.strategy === 'faulty' ? FAULTY_BIT : 0);
  }

  /** The strategy's stats, in the JS strategies' shape. */
  allocatorStats(): AllocatorStats {
    const s = this.readStats();
    const o = this.options;
    const base = o.strategy === 'faulty' ? o.inner : o;
    const st = (i: number): number => s[S.strategy + i] as number;
    const f = (i: number): number => s[S.facts + i] as number;
    let facts: StrategyFacts;
    switch (base.strategy) {
      case 'heap':
        facts = { strategy: 'heap' };
        break;
      case 'user':
        facts = { strategy: 'user', libraryPath: base.libraryPath };
        break;
      case 'arena':
        facts = {
          strategy: 'arena',
          capacityBytes: f(0),
          usedBytes: f(1),
          highWaterBytes: f(2),
          freedBytes: f(3),
          paddingBytes: f(4),
          wasteBytes: f(5),
          exhausted: f(6),
          resets: f(7),
        };
        break;
      case 'pool':
        facts = {
          strategy: 'pool',
          blocksPerSlab: f(0),
          classes: base.classes.map((_, c) => {
            const p = S.pool + 5 * c;
            return {
              size: s[p] as number,
              inUse: s[p + 1] as number,
              free: s[p + 2] as number,
              slabs: s[p + 3] as number,
              requests: s[p + 4] as number,
            };
          }),
          fallback: { allocations: f(2), liveBlocks: f(3), liveBytes: f(4) },
        };
        break;
      case 'guard':
        facts = {
          strategy: 'guard',
          redZoneBytes: f(0),
          canaryByte: f(1),
          overruns: f(2),
          underruns: f(3),
          doubleFrees: f(4),
          unknownFrees: f(5),
          checks: f(6),
          quarantinedBlocks: f(7),
        };
        break;
    }
    const q = (i: number): number => s[S.faults + i] as number;
    return {
      strategy: base.strategy,
      code: this.strategyCode,
      faulty: o.strategy === 'faulty',
      released: s[S.released] === 1,
      allocations: st(0),
      failures: st(1),
      frees: st(2),
      freeNulls: st(3),
      badFrees: st(4),
      liveBlocks: st(5),
      liveBytes: st(6),
      peakBytes: st(7),
      totalBytes: st(8),
      nativeBytes: st(9),
      facts,
      faults:
        o.strategy === 'faulty'
          ? { attempts: q(1), failNth: q(2), probability: q(3), budget: q(4), innerFailures: q(5) }
          : null,
    };
  }

  /** Frees the tracer (releasing what the strategy still holds) and gives its ring back. */
  destroy(): void {
    if (this.handle === 0n) return;
    this.slot = 0;
    this.boundSnapshot = null;
    this.boundMarker = null;
    this.fn.destroy(this.handle);
    this.handle = 0n;
    if (this.ring) giveRing(this.ring);
    this.ring = null;
  }
}
