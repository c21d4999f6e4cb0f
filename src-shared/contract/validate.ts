/**
 * A small runtime validator whose schemas also give the static types, so each message is
 * defined once. Every inbound message (IPC, WebSocket) is parsed with these at the boundary;
 * a failure names the path of the first bad field.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Validator<T> {
  parse(input: unknown, path?: string): Result<T>;
  /** For optional properties in object(). */
  readonly optional?: boolean;
}

export type Infer<V> = V extends Validator<infer T> ? T : never;

const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/**
 * Own properties only: `x in table` and `table[x]` also find Object.prototype's members
 * (toString, constructor, __proto__…), so an untrusted name must never be looked up that way.
 */
export function hasOwn(o: object, key: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

const fail = (path: string, what: string): Result<never> => ({
  ok: false,
  error: `${path || 'message'}: ${what}`,
});

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'number' && Number.isNaN(x)) return 'NaN';
  return typeof x === 'string' ? `a string` : `${typeof x}`;
}

export function number(
  opts: { int?: boolean; min?: number; max?: number } = {},
): Validator<number> {
  return {
    parse(x, path = '') {
      if (typeof x !== 'number' || !Number.isFinite(x))
        return fail(path, `expected a finite number, got ${describe(x)}`);
      if (opts.int && !Number.isInteger(x)) return fail(path, `expected an integer, got ${x}`);
      if (opts.min !== undefined && x < opts.min)
        return fail(path, `must be ≥ ${opts.min}, got ${x}`);
      if (opts.max !== undefined && x > opts.max)
        return fail(path, `must be ≤ ${opts.max}, got ${x}`);
      return ok(x);
    },
  };
}

export function string(opts: { max?: number; pattern?: RegExp } = {}): Validator<string> {
  const max = opts.max ?? 4096;
  return {
    parse(x, path = '') {
      if (typeof x !== 'string') return fail(path, `expected a string, got ${describe(x)}`);
      if (x.length > max) return fail(path, `longer than ${max} characters`);
      if (opts.pattern && !opts.pattern.test(x))
        return fail(path, `does not match ${opts.pattern}`);
      return ok(x);
    },
  };
}

export function boolean(): Validator<boolean> {
  return {
    parse: (x, path = '') =>
      typeof x === 'boolean' ? ok(x) : fail(path, `expected a boolean, got ${describe(x)}`),
  };
}

export function literal<const L extends string | number | boolean>(...values: L[]): Validator<L> {
  return {
    parse(x, path = '') {
      return (values as unknown[]).includes(x)
        ? ok(x as L)
        : fail(path, `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
    },
  };
}

export function array<T>(
  item: Validator<T>,
  opts: { max?: number; min?: number } = {},
): Validator<T[]> {
  const max = opts.max ?? 100_000;
  return {
    parse(x, path = '') {
      if (!Array.isArray(x)) return fail(path, `expected an array, got ${describe(x)}`);
      if (x.length > max) return fail(path, `more than ${max} items`);
      if (opts.min !== undefined && x.length < opts.min)
        return fail(path, `fewer than ${opts.min} items`);
      const out: T[] = [];
      for (let i = 0; i < x.length; i++) {
        const r = item.parse(x[i], `${path}[${i}]`);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return ok(out);
    },
  };
}

export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return {
    optional: true,
    parse: (x, path) => (x === undefined ? ok(undefined) : inner.parse(x, path)),
  };
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return { parse: (x, path) => (x === null ? ok(null) : inner.parse(x, path)) };
}

/** An ArrayBuffer (binary payloads: trace files, event pages). */
export function bytes(opts: { max?: number } = {}): Validator<ArrayBuffer> {
  const max = opts.max ?? 512 * 1024 * 1024;
  return {
    parse(x, path = '') {
      if (!(x instanceof ArrayBuffer))
        return fail(path, `expected binary data (ArrayBuffer), got ${describe(x)}`);
      if (x.byteLength > max) return fail(path, `larger than ${max} bytes`);
      return ok(x);
    },
  };
}

type Shape = Record<string, Validator<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { readonly optional: true }
    ? K
    : undefined extends Infer<S[K]>
      ? K
      : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};

/** A plain object with exactly these keys (unknown keys are rejected). */
export function object<S extends Shape>(
  shape: S,
): Validator<{ [K in keyof ObjectOf<S>]: ObjectOf<S>[K] }> {
  return {
    parse(x, path = '') {
      if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof ArrayBuffer) {
        return fail(path, `expected an object, got ${describe(x)}`);
      }
      const rec = x as Record<string, unknown>;
      for (const key of Object.keys(rec)) {
        if (!hasOwn(shape, key))
          return fail(path ? `${path}.${key.slice(0, 64)}` : key.slice(0, 64), 'unknown field');
      }
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(shape)) {
        const r = v.parse(hasOwn(rec, key) ? rec[key] : undefined, path ? `${path}.${key}` : key);
        if (!r.ok) return r;
        if (r.value !== undefined) out[key] = r.value;
      }
      return ok(out as never);
    },
  };
}

/** One of several object shapes told apart by a literal `tag` field. */
export function tagged<K extends string, M extends Record<string, Validator<object>>>(
  tag: K,
  variants: M,
): Validator<{ [T in keyof M]: Infer<M[T]> & { [P in K]: T } }[keyof M]> {
  return {
    parse(x, path = '') {
      if (typeof x !== 'object' || x === null)
        return fail(path, `expected an object, got ${describe(x)}`);
      const t = hasOwn(x, tag) ? (x as Record<string, unknown>)[tag] : undefined;
      if (typeof t !== 'string' || !hasOwn(variants, t)) {
        return fail(
          path ? `${path}.${tag}` : tag,
          `expected one of ${Object.keys(variants)
            .map((k) => JSON.stringify(k))
            .join(', ')}`,
        );
      }
      const { [tag]: _t, ...rest } = x as Record<string, unknown>;
      const r = (variants[t] as Validator<object>).parse(rest, path);
      return r.ok ? ok({ ...r.value, [tag]: t } as never) : r;
    },
  };
}

/** A custom check on top of another validator. */
export function refine<T>(inner: Validator<T>, check: (v: T) => string | null): Validator<T> {
  return {
    parse(x, path = '') {
      const r = inner.parse(x, path);
      if (!r.ok) return r;
      const problem = check(r.value);
      return problem ? fail(path, problem) : r;
    },
  };
}
