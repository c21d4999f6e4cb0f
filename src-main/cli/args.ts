/**
 * A small, strict command-line parser: `--name value`, `--name=value`, boolean `--flag`,
 * positionals. Every option a command accepts is declared; anything else is a usage error.
 */
import { usage } from './exit-codes';

export interface OptionSpec {
  /** Takes a value (else boolean). */
  value?: boolean;
  /** May be given more than once (values collected). */
  repeat?: boolean;
  help: string;
  /** Placeholder in the help text. */
  arg?: string;
}

export interface Parsed {
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(
  argv: readonly string[],
  spec: Readonly<Record<string, OptionSpec>>,
): Parsed {
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw usage(`unknown option --${name}`);
    if (!s.value) {
      if (eq >= 0) throw usage(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    let v: string | undefined;
    if (eq >= 0) v = a.slice(eq + 1);
    else {
      v = argv[++i];
      if (v === undefined) throw usage(`--${name} needs a value`);
    }
    const list = options.get(name) ?? [];
    if (list.length > 0 && !s.repeat) throw usage(`--${name} given twice`);
    list.push(v);
    options.set(name, list);
  }
  return { positionals, options, flags };
}

export const optionValue = (p: Parsed, name: string): string | undefined =>
  p.options.get(name)?.[0];

/** A positive integer argument, or a usage error naming it. */
export function intArg(text: string | undefined, what: string, min = 1, max = 0x7fffffff): number {
  if (text === undefined) throw usage(`${what} is missing`);
  if (!/^\d+$/.test(text))
    throw usage(`${what} must be a whole number, not ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max) throw usage(`${what} must be between ${min} and ${max}`);
  return n;
}
