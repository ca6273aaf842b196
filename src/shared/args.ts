// Reading a command line, shared by the CLI, the relay, the desktop app and `npm start`: each
// tokenizes with node:util parseArgs (this folder imports no Node module) and walks what
// readArgs makes of the tokens, so that every program treats a missing value, an unknown
// option and a stray word the same way.

/** The options a program knows, by long name: a value (`--port 80`, `--port=80`) or none. */
export type OptionTypes = Readonly<Record<string, 'string' | 'boolean'>>;

/** The tokens parseArgs returns with `tokens: true` (the fields used here). */
export type ArgToken =
  | {
      kind: 'option';
      name: string;
      rawName: string;
      index: number;
      value?: string | undefined;
      inlineValue?: boolean | undefined;
    }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

/** One word (or `--name=value`) of the command line, in order. */
export type Arg =
  /** A known option that takes a value, with it. */
  | { kind: 'value'; name: string; value: string }
  /** A known option that takes none. */
  | { kind: 'flag'; name: string }
  /** A known option whose value is missing: at the end, or followed by another `--option`. */
  | { kind: 'missing'; name: string }
  /** An unknown `--name`. */
  | { kind: 'unknown'; name: string }
  /** Anything else: a positional word, one after `--`, or a word starting with one dash. */
  | { kind: 'word'; value: string };

/** The parseArgs config that keeps every word, in order, for readArgs. */
export function tokenConfig(args: readonly string[], types: OptionTypes) {
  return {
    args: [...args],
    options: Object.fromEntries(Object.entries(types).map(([name, type]) => [name, { type }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  } as const;
}

/**
 * What the tokens of `args` say. parseArgs takes the word after `--name` as its value even when
 * it is another option (`--host --port=7001`); here that, like a `--name` at the end, is a
 * missing value, and a value starting with one dash (`--port -1`) stays a value to be checked.
 * Words with one dash (`-p`, `-5`) are words: no program here has short options.
 */
export function readArgs(
  tokens: readonly ArgToken[],
  args: readonly string[],
  types: OptionTypes,
): Arg[] {
  const out: Arg[] = [];
  let lastShort = -1;
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      out.push({ kind: 'word', value: t.value });
    } else if (!t.rawName.startsWith('--')) {
      // parseArgs splits `-abc` into three tokens of one index: one word.
      if (t.index !== lastShort) out.push({ kind: 'word', value: args[t.index]! });
      lastShort = t.index;
    } else if (!Object.hasOwn(types, t.name)) {
      out.push({ kind: 'unknown', name: t.name });
    } else if (types[t.name] === 'boolean') {
      out.push({ kind: 'flag', name: t.name });
    } else if (t.value === undefined || (t.inlineValue === false && t.value.startsWith('--'))) {
      out.push({ kind: 'missing', name: t.name });
    } else {
      out.push({ kind: 'value', name: t.name, value: t.value });
    }
  }
  return out;
}
