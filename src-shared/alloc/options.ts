/**
 * Allocator options: plain JSON data the renderer chooses and main turns into a strategy
 * (src-main/alloc/factory.ts). Everything crossing IPC goes through parseAllocatorOptions,
 * which rejects anything it does not fully understand instead of guessing.
 *
 * No Node or DOM imports: this file is shared by every process.
 */

export const BASE_STRATEGIES = ['heap', 'arena', 'pool', 'guard'] as const;
export type BaseStrategyName = (typeof BASE_STRATEGIES)[number];
export const ALL_STRATEGIES = [...BASE_STRATEGIES, 'faulty'] as const;
export type AllocatorStrategyName = (typeof ALL_STRATEGIES)[number];

/** libc malloc/free: the baseline, what the API does without a PSS_ALLOCATOR. */
export interface HeapOptions {
  readonly strategy: 'heap';
}

/** One native block, bump allocation (16-byte aligned), reclaimed only when the marker is freed. */
export interface ArenaOptions {
  readonly strategy: 'arena';
  readonly capacityBytes: number;
}

/** Size classes with free lists carved from natively allocated slabs. */
export interface PoolOptions {
  readonly strategy: 'pool';
  /** Block sizes, strictly ascending, each a multiple of 16. */
  readonly classes: readonly number[];
  readonly blocksPerSlab: number;
}

/** Every block between two canary-filled red zones, checked at free and at marker free. */
export interface GuardOptions {
  readonly strategy: 'guard';
  /** Bytes of each red zone (rounded up to a multiple of 16 by the strategy). */
  readonly redZoneBytes: number;
}

/**
 * The AllocRoutine/FreeRoutine of a user's shared library (docs/user-allocator.md), traced and
 * checked by the native tracer; such walks run in a child process (a crash ends the session,
 * not the app).
 */
export interface UserLibraryOptions {
  readonly strategy: 'user';
  /** Absolute path of the shared object (.so; .dll on Windows). */
  readonly libraryPath: string;
}

export type BaseAllocatorOptions =
  HeapOptions | ArenaOptions | PoolOptions | GuardOptions | UserLibraryOptions;

/** True when the options run a user's allocator library (directly or behind `faulty`). */
export function usesUserLibrary(o: AllocatorOptions): boolean {
  return o.strategy === 'user' || (o.strategy === 'faulty' && o.inner.strategy === 'user');
}

/** Wraps one of the others and makes chosen allocations fail (returns NULL). */
export interface FaultyOptions {
  readonly strategy: 'faulty';
  readonly inner: BaseAllocatorOptions;
  /** 1-based indices of allocation attempts that fail. */
  readonly failNth?: readonly number[];
  /** Probability in [0, 1] that an attempt fails, drawn from a PRNG seeded with `seed`. */
  readonly failProbability?: number;
  /** PRNG seed (uint32); the same seed and call sequence gives the same failures. */
  readonly seed?: number;
  /** Fail an allocation that would take the live bytes above this budget. */
  readonly budgetBytes?: number;
}

export type AllocatorOptions = BaseAllocatorOptions | FaultyOptions;

// ---- limits -------------------------------------------------------------------------------

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const LIMITS = {
  arenaMinBytes: 4 * KiB,
  arenaMaxBytes: 1 * GiB,
  poolMaxClasses: 32,
  poolMinClass: 16,
  poolMaxClass: 1 * MiB,
  poolClassAlign: 16,
  poolMaxBlocksPerSlab: 65536,
  poolMaxSlabBytes: 64 * MiB,
  guardMinRedZone: 1,
  guardMaxRedZone: 4 * KiB,
  faultyMaxFailNth: 10_000,
  faultyMaxIndex: 2 ** 31,
  faultyMaxBudget: 2 ** 40,
  seedMax: 0xffffffff,
  libraryPathMax: 4096,
} as const;

// ---- defaults -----------------------------------------------------------------------------

export const DEFAULT_ARENA_BYTES = 4 * MiB;
export const DEFAULT_POOL_CLASSES: readonly number[] = [
  16, 32, 64, 128, 256, 512, 1024, 2048, 4096,
];
export const DEFAULT_BLOCKS_PER_SLAB = 64;
export const DEFAULT_RED_ZONE_BYTES = 32;
export const DEFAULT_FAULTY_SEED = 1;
export const DEFAULT_FAULTY_PROBABILITY = 0.05;

export const DEFAULT_ALLOCATOR_OPTIONS: AllocatorOptions = { strategy: 'heap' };

/** Ready-to-use options for each strategy (what the UI offers first). */
export function defaultOptions(strategy: 'heap'): HeapOptions;
export function defaultOptions(strategy: 'arena'): ArenaOptions;
export function defaultOptions(strategy: 'pool'): PoolOptions;
export function defaultOptions(strategy: 'guard'): GuardOptions;
export function defaultOptions(strategy: 'faulty'): FaultyOptions;
export function defaultOptions(strategy: AllocatorStrategyName): AllocatorOptions;
export function defaultOptions(strategy: AllocatorStrategyName): AllocatorOptions {
  switch (strategy) {
    case 'heap':
      return { strategy: 'heap' };
    case 'arena':
      return { strategy: 'arena', capacityBytes: DEFAULT_ARENA_BYTES };
    case 'pool':
      return {
        strategy: 'pool',
        classes: [...DEFAULT_POOL_CLASSES],
        blocksPerSlab: DEFAULT_BLOCKS_PER_SLAB,
      };
    case 'guard':
      return { strategy: 'guard', redZoneBytes: DEFAULT_RED_ZONE_BYTES };
    case 'faulty':
      return {
        strategy: 'faulty',
        inner: { strategy: 'heap' },
        failProbability: DEFAULT_FAULTY_PROBABILITY,
        seed: DEFAULT_FAULTY_SEED,
      };
    default:
      return assertNever(strategy);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}

// ---- display ------------------------------------------------------------------------------

export interface StrategyInfo {
  readonly label: string;
  readonly description: string;
}

export const STRATEGY_INFO: Readonly<Record<AllocatorStrategyName, StrategyInfo>> = {
  heap: {
    label: 'Heap',
    description:
      'libc malloc/free for every request: the baseline, the same as passing no allocator.',
  },
  arena: {
    label: 'Arena',
    description:
      'One native block; requests are bumped off it 16-byte aligned. Frees only count: the ' +
      'memory comes back when the marker is freed. Runs out → NULL.',
  },
  pool: {
    label: 'Pool',
    description:
      'Fixed size classes with free lists, carved from natively allocated slabs; freed blocks ' +
      'are reused by the next request of the same class. Larger requests go to malloc.',
  },
  guard: {
    label: 'Guard',
    description:
      'Every block sits between two canary-filled red zones, checked at free and when the ' +
      'marker is freed: catches overruns, underruns, double frees and foreign frees.',
  },
  faulty: {
    label: 'Faulty',
    description:
      'Wraps another strategy and makes chosen allocations return NULL: the Nth, at random ' +
      'with a seed, or past a budget of live bytes. Shows how the API copes with failure.',
  },
};

function formatBytes(n: number): string {
  if (n >= GiB && n % GiB === 0) return `${n / GiB} GiB`;
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} B`;
}

/** One line for the UI, e.g. "Arena 4 MiB" or "Faulty (fail #3, p=0.05 seed 1) → Pool 9 classes". */
export function describeOptions(o: AllocatorOptions): string {
  switch (o.strategy) {
    case 'heap':
      return 'Heap (libc malloc)';
    case 'arena':
      return `Arena ${formatBytes(o.capacityBytes)}`;
    case 'pool':
      return `Pool ${o.classes.length} classes ${o.classes[0] ?? 0}–${o.classes[o.classes.length - 1] ?? 0} B, ${o.blocksPerSlab}/slab`;
    case 'guard':
      return `Guard ${o.redZoneBytes} B red zones`;
    case 'user':
      return `User library ${o.libraryPath.slice(o.libraryPath.lastIndexOf('/') + 1)}`;
    case 'faulty': {
      const parts: string[] = [];
      if (o.failNth !== undefined && o.failNth.length > 0)
        parts.push(`fail #${o.failNth.slice(0, 5).join(',')}${o.failNth.length > 5 ? '…' : ''}`);
      if (o.failProbability !== undefined && o.failProbability > 0)
        parts.push(`p=${o.failProbability} seed ${o.seed ?? DEFAULT_FAULTY_SEED}`);
      if (o.budgetBytes !== undefined) parts.push(`budget ${formatBytes(o.budgetBytes)}`);
      return `Faulty (${parts.length > 0 ? parts.join(', ') : 'no faults'}) → ${describeOptions(o.inner)}`;
    }
    default:
      return assertNever(o);
  }
}

/** The user-library choice (not one of the built-in strategies of STRATEGY_INFO). */
export const USER_STRATEGY_INFO: StrategyInfo = {
  label: 'User library',
  description:
    'Your own shared library exporting AllocRoutine and FreeRoutine (docs/user-allocator.md): ' +
    'every call traced and checked against the API’s rules. Runs in a process of its own, so ' +
    'a crash ends the session, not the app.',
};

// ---- validation ---------------------------------------------------------------------------

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

class OptionsError extends Error {}

function fail(path: string, message: string): never {
  throw new OptionsError(`${path}: ${message}`);
}

function describe(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) fail(path, `unknown key ${JSON.stringify(key)}`);
  }
}

/** An integer in [min, max]; `undefined` → the default when one is given. */
function int(v: unknown, path: string, min: number, max: number, dflt?: number): number {
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    fail(path, 'is required');
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be an integer from ${min} to ${max} (got ${describe(v)})`);
  }
  return v;
}

function parseBase(v: unknown, path: string): BaseAllocatorOptions {
  if (!isPlainObject(v)) fail(path, `must be an object (got ${describe(v)})`);
  const s = v['strategy'];
  switch (s) {
    case 'heap':
      checkKeys(v, ['strategy'], path);
      return { strategy: 'heap' };
    case 'arena':
      checkKeys(v, ['strategy', 'capacityBytes'], path);
      return {
        strategy: 'arena',
        capacityBytes: int(
          v['capacityBytes'],
          `${path}.capacityBytes`,
          LIMITS.arenaMinBytes,
          LIMITS.arenaMaxBytes,
          DEFAULT_ARENA_BYTES,
        ),
      };
    case 'pool': {
      checkKeys(v, ['strategy', 'classes', 'blocksPerSlab'], path);
      const blocksPerSlab = int(
        v['blocksPerSlab'],
        `${path}.blocksPerSlab`,
        1,
        LIMITS.poolMaxBlocksPerSlab,
        DEFAULT_BLOCKS_PER_SLAB,
      );
      const raw = v['classes'] === undefined ? DEFAULT_POOL_CLASSES : v['classes'];
      if (!Array.isArray(raw)) fail(`${path}.classes`, `must be an array (got ${describe(raw)})`);
      if (raw.length < 1 || raw.length > LIMITS.poolMaxClasses)
        fail(`${path}.classes`, `must have 1 to ${LIMITS.poolMaxClasses} sizes`);
      const classes: number[] = [];
      let prev = 0;
      raw.forEach((c: unknown, i: number) => {
        const p = `${path}.classes[${i}]`;
        const size = int(c, p, LIMITS.poolMinClass, LIMITS.poolMaxClass);
        if (size % LIMITS.poolClassAlign !== 0)
          fail(p, `must be a multiple of ${LIMITS.poolClassAlign} (got ${size})`);
        if (size <= prev) fail(p, `sizes must be strictly ascending (${size} after ${prev})`);
        if (size * blocksPerSlab > LIMITS.poolMaxSlabBytes)
          fail(p, `a slab of ${blocksPerSlab} × ${size} B exceeds ${LIMITS.poolMaxSlabBytes} B`);
        prev = size;
        classes.push(size);
      });
      return { strategy: 'pool', classes, blocksPerSlab };
    }
    case 'guard':
      checkKeys(v, ['strategy', 'redZoneBytes'], path);
      return {
        strategy: 'guard',
        redZoneBytes: int(
          v['redZoneBytes'],
          `${path}.redZoneBytes`,
          LIMITS.guardMinRedZone,
          LIMITS.guardMaxRedZone,
          DEFAULT_RED_ZONE_BYTES,
        ),
      };
    case 'user': {
      checkKeys(v, ['strategy', 'libraryPath'], path);
      const lp = v['libraryPath'];
      if (typeof lp !== 'string' || lp.length === 0)
        fail(`${path}.libraryPath`, `must be a path (got ${describe(lp)})`);
      if (lp.length > LIMITS.libraryPathMax)
        fail(`${path}.libraryPath`, `must be at most ${LIMITS.libraryPathMax} characters`);
      if (lp.includes('\0')) fail(`${path}.libraryPath`, 'must not contain NUL');
      if (!(lp.startsWith('/') || /^[A-Za-z]:[\\/]/.test(lp)))
        fail(`${path}.libraryPath`, `must be an absolute path (got ${describe(lp)})`);
      return { strategy: 'user', libraryPath: lp };
    }
    case 'faulty':
      return fail(`${path}.strategy`, 'a faulty allocator cannot wrap another faulty allocator');
    default:
      return fail(
        `${path}.strategy`,
        `must be one of ${[...BASE_STRATEGIES, 'user'].join(', ')} (got ${describe(s)})`,
      );
  }
}

function parseFaulty(v: Record<string, unknown>, path: string): FaultyOptions {
  checkKeys(v, ['strategy', 'inner', 'failNth', 'failProbability', 'seed', 'budgetBytes'], path);
  const inner = parseBase(
    v['inner'] === undefined ? { strategy: 'heap' } : v['inner'],
    `${path}.inner`,
  );
  let out: FaultyOptions = { strategy: 'faulty', inner };
  const nth = v['failNth'];
  if (nth !== undefined) {
    if (!Array.isArray(nth)) fail(`${path}.failNth`, `must be an array (got ${describe(nth)})`);
    if (nth.length > LIMITS.faultyMaxFailNth)
      fail(`${path}.failNth`, `at most ${LIMITS.faultyMaxFailNth} indices`);
    const set = new Set<number>();
    nth.forEach((n: unknown, i: number) =>
      set.add(int(n, `${path}.failNth[${i}]`, 1, LIMITS.faultyMaxIndex)),
    );
    out = { ...out, failNth: [...set].sort((a, b) => a - b) };
  }
  const p = v['failProbability'];
  if (p !== undefined) {
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1)
      fail(`${path}.failProbability`, `must be a number from 0 to 1 (got ${describe(p)})`);
    out = { ...out, failProbability: p };
  }
  if (v['seed'] !== undefined)
    out = { ...out, seed: int(v['seed'], `${path}.seed`, 0, LIMITS.seedMax) };
  if (v['budgetBytes'] !== undefined)
    out = {
      ...out,
      budgetBytes: int(v['budgetBytes'], `${path}.budgetBytes`, 0, LIMITS.faultyMaxBudget),
    };
  return out;
}

/**
 * Validates untrusted input (IPC, saved settings) and returns normalized options: missing
 * numeric fields get their defaults, failNth is sorted and de-duplicated. Rejects unknown keys,
 * non-integers, NaN/Infinity, negative or absurd sizes, and a faulty inside a faulty.
 */
export function parseAllocatorOptions(input: unknown): ParseResult<AllocatorOptions> {
  try {
    if (isPlainObject(input) && input['strategy'] === 'faulty') {
      return { ok: true, value: parseFaulty(input, 'options') };
    }
    return { ok: true, value: parseBase(input, 'options') };
  } catch (e) {
    if (e instanceof OptionsError) return { ok: false, error: e.message };
    throw e;
  }
}
