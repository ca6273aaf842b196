import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

/** Undoes the escapes allowed in HELP text (`\\`, `\n`); throws on any other backslash. */
function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${where}: bad escape "\\${c}" in HELP text`);
  });
}

/** Reads `{a="x",b="y"}` (escapes `\\`, `\"`, `\n`) starting at `s[0] === '{'`. */
function parseLabels(s: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  while (s[i] !== '}') {
    const name = /^[^=]*/.exec(s.slice(i))![0];
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    i += name.length;
    if (s.slice(i, i + 2) !== '="') throw new Error(`${where}: expected =" after ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined || c === '\n') throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = s[i + 1];
        if (e === '\\' || e === '"') value += e;
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape in label value`);
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels[name] = value;
    i++;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`${where}: expected , or } after label ${name}`);
  }
  return { labels, rest: s.slice(i + 1) };
}

/**
 * A strict reader of the Prometheus text format 0.0.4 as this relay should write it: every
 * family has `# HELP`, then `# TYPE`, then its samples; counters are named `*_total`; no
 * blank lines; the text ends with a newline. Throws with the line number on any deviation.
 */
function parsePrometheus(text: string): Family[] {
  if (!text.endsWith('\n')) throw new Error('the text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const families: Family[] = [];
  const seen = new Set<string>();
  let current: Family | null = null;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const where = `line ${n + 1} "${line}"`;
    if (line.startsWith('#')) {
      const help = /^# HELP (\S+) (.*)$/.exec(line);
      if (help) {
        const name = help[1]!;
        if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
        if (seen.has(name)) throw new Error(`${where}: family ${name} described twice`);
        const type = /^# TYPE (\S+) (counter|gauge)$/.exec(lines[n + 1] ?? '');
        if (!type || type[1] !== name) throw new Error(`${where}: HELP without its TYPE line`);
        current = {
          name,
          help: unescapeHelp(help[2]!, where),
          type: type[2] as Family['type'],
          samples: [],
        };
        if (current.type === 'counter' && !name.endsWith('_total')) {
          throw new Error(`${where}: counter ${name} must end in _total`);
        }
        seen.add(name);
        families.push(current);
        n++;
        continue;
      }
      throw new Error(`${where}: unexpected comment`);
    }
    if (!current) throw new Error(`${where}: sample before any HELP/TYPE`);
    const name = /^[^{ ]*/.exec(line)![0];
    if (name !== current.name) throw new Error(`${where}: sample outside its family`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
    const value = /^ (\S+)$/.exec(rest);
    if (!value || !FLOAT.test(value[1]!)) throw new Error(`${where}: bad sample value`);
    const key = JSON.stringify(labels);
    if (current.samples.some((s) => JSON.stringify(s.labels) === key)) {
      throw new Error(`${where}: duplicate sample`);
    }
    current.samples.push({ name, labels, value: Number(value[1]!.replace('Inf', 'Infinity')) });
  }
  return families;
}

describe('the test validator itself', () => {
  const good = [
    '# HELP x_total Things.',
    '# TYPE x_total counter',
    'x_total{k="a\\"b"} 1',
    '# HELP g A gauge.',
    '# TYPE g gauge',
    'g -1.5e3',
    '',
  ].join('\n');

  it('accepts valid text', () => {
    expect(parsePrometheus(good)).toEqual([
      {
        name: 'x_total',
        help: 'Things.',
        type: 'counter',
        samples: [{ name: 'x_total', labels: { k: 'a"b' }, value: 1 }],
      },
      {
        name: 'g',
        help: 'A gauge.',
        type: 'gauge',
        samples: [{ name: 'g', labels: {}, value: -1500 }],
      },
    ]);
  });

  it.each([
    ['no final newline', good.slice(0, -1)],
    ['a counter without _total', good.replaceAll('x_total', 'x')],
    ['an unescaped quote', good.replace('a\\"b', 'a"b')],
    ['a bad value', good.replace('g -1.5e3', 'g Infinity')],
    ['a missing TYPE', good.replace('# TYPE g gauge\n', '')],
    ['a blank line', good.replace('\n# HELP g', '\n\n# HELP g')],
    ['a stray sample', good.replace('g -1.5e3', 'h 1')],
    ['a bad escape in HELP', good.replace('Things.', 'Things\\t')],
  ])('rejects %s', (_, text) => {
    expect(() => parsePrometheus(text)).toThrow();
  });
});

/** A registry with a plain counter, a labelled counter and a gauge. */
function sampleRegistry() {
  const m = new Metrics();
  let connections = 3;
  const frames = m.counter('frames', 'Frames routed.');
  const dropped = m.counter('dropped', 'Frames dropped, by reason.', 'reason');
  m.gauge('connections', 'Open connections.', () => connections);
  return { m, frames, dropped, setConnections: (n: number) => (connections = n) };
}

describe('Prometheus text', () => {
  it('is valid, with prefixed names, _total counters and the right values', () => {
    const { m, frames, dropped } = sampleRegistry();
    frames();
    frames('', 4);
    dropped('queue-full');
    dropped('queue-full');
    dropped('lost', 0.5);
    expect(parsePrometheus(m.prometheus())).toEqual([
      {
        name: 'strata_relay_frames_total',
        help: 'Frames routed.',
        type: 'counter',
        samples: [{ name: 'strata_relay_frames_total', labels: {}, value: 5 }],
      },
      {
        name: 'strata_relay_dropped_total',
        help: 'Frames dropped, by reason.',
        type: 'counter',
        samples: [
          { name: 'strata_relay_dropped_total', labels: { reason: 'queue-full' }, value: 2 },
          { name: 'strata_relay_dropped_total', labels: { reason: 'lost' }, value: 0.5 },
        ],
      },
      {
        name: 'strata_relay_connections',
        help: 'Open connections.',
        type: 'gauge',
        samples: [{ name: 'strata_relay_connections', labels: {}, value: 3 }],
      },
    ]);
  });

  it('is exactly this text', () => {
    const { m, frames, dropped } = sampleRegistry();
    frames();
    dropped('lost', 2);
    expect(m.prometheus('p_')).toBe(
      [
        '# HELP p_frames_total Frames routed.',
        '# TYPE p_frames_total counter',
        'p_frames_total 1',
        '# HELP p_dropped_total Frames dropped, by reason.',
        '# TYPE p_dropped_total counter',
        'p_dropped_total{reason="lost"} 2',
        '# HELP p_connections Open connections.',
        '# TYPE p_connections gauge',
        'p_connections 3',
        '',
      ].join('\n'),
    );
  });

  it('shows an untouched plain counter as 0 and an untouched labelled one without samples', () => {
    const { m } = sampleRegistry();
    const families = parsePrometheus(m.prometheus());
    expect(families.find((f) => f.name === 'strata_relay_frames_total')!.samples).toEqual([
      { name: 'strata_relay_frames_total', labels: {}, value: 0 },
    ]);
    expect(families.find((f) => f.name === 'strata_relay_dropped_total')!.samples).toEqual([]);
  });

  it('escapes backslashes, quotes and newlines in label values', () => {
    const m = new Metrics();
    const c = m.counter('odd', 'Odd labels.', 'what');
    const nasty = ['back\\slash', 'say "hi"', 'two\nlines', '\\"\n', 'Борис'];
    nasty.forEach((label, i) => c(label, i + 1));
    const [family] = parsePrometheus(m.prometheus());
    expect(family!.samples.map((s) => [s.labels.what, s.value])).toEqual(
      nasty.map((label, i) => [label, i + 1]),
    );
  });

  // BUG (metrics.ts prometheus(), the `# HELP` line): help text is written as it is, but the
  // format requires `\` and newline in HELP to be escaped as `\\` and `\n`. A help text with
  // a newline breaks the exposition (its second line is not a valid line).
  it('escapes backslashes and newlines in help text', () => {
    const m = new Metrics();
    m.counter('odd', 'First line\nsecond line, C:\\path');
    const [family] = parsePrometheus(m.prometheus());
    expect(family!.help).toBe('First line\nsecond line, C:\\path');
  });

  it('uses the given prefix', () => {
    const { m } = sampleRegistry();
    const names = parsePrometheus(m.prometheus('x_')).map((f) => f.name);
    expect(names).toEqual(['x_frames_total', 'x_dropped_total', 'x_connections']);
  });
});

describe('JSON view', () => {
  it('shows plain series as numbers and labelled ones as objects', () => {
    const { m, frames, dropped } = sampleRegistry();
    frames('', 7);
    dropped('lost', 2);
    dropped('queue-full');
    expect(m.json()).toEqual({
      frames: 7,
      dropped: { lost: 2, 'queue-full': 1 },
      connections: 3,
    });
    expect(new Metrics().json()).toEqual({});
    expect(sampleRegistry().m.json()).toEqual({ frames: 0, dropped: {}, connections: 3 });
  });

  it('agrees with the Prometheus text', () => {
    const { m, frames, dropped, setConnections } = sampleRegistry();
    frames('', 12);
    dropped('a', 3);
    dropped('b', 4);
    setConnections(9);
    const fromText: Record<string, number | Record<string, number>> = {};
    for (const f of parsePrometheus(m.prometheus(''))) {
      const name = f.name.replace(/_total$/, '');
      const labelled = f.samples.some((s) => Object.keys(s.labels).length > 0);
      fromText[name] = labelled
        ? Object.fromEntries(f.samples.map((s) => [Object.values(s.labels)[0]!, s.value]))
        : f.samples[0]!.value;
    }
    expect(m.json()).toEqual(fromText);
  });
});

describe('registry', () => {
  it('reads gauges at render time, every time', () => {
    const { m, setConnections } = sampleRegistry();
    const gauge = () =>
      parsePrometheus(m.prometheus()).find((f) => f.type === 'gauge')!.samples[0]!.value;
    expect(gauge()).toBe(3);
    setConnections(42);
    expect(gauge()).toBe(42);
    expect(m.json().connections).toBe(42);
    setConnections(-1.25);
    expect(m.value('connections')).toBe(-1.25);
    expect(m.json().connections).toBe(-1.25);
  });

  it('calls a gauge only when rendering', () => {
    const m = new Metrics();
    let reads = 0;
    m.gauge('g', 'A gauge.', () => ++reads);
    expect(reads).toBe(0);
    m.prometheus();
    m.json();
    expect(reads).toBe(2);
  });

  it('value() gives a plain series or the sum over labels', () => {
    const { m, frames, dropped } = sampleRegistry();
    frames('', 3);
    dropped('a', 2);
    dropped('b', 5);
    expect(m.value('frames')).toBe(3);
    expect(m.value('dropped')).toBe(7);
    expect(m.value('connections')).toBe(3);
    expect(() => m.value('nope')).toThrow('no metric nope');
  });

  it('refuses to define a name twice, whatever its kind', () => {
    const m = new Metrics();
    m.counter('x', 'X.');
    expect(() => m.counter('x', 'X again.')).toThrow('metric x defined twice');
    expect(() => m.gauge('x', 'X as a gauge.', () => 1)).toThrow('metric x defined twice');
    m.gauge('y', 'Y.', () => 1);
    expect(() => m.counter('y', 'Y as a counter.', 'label')).toThrow('metric y defined twice');
  });

  it('keeps separate registries apart', () => {
    const a = new Metrics();
    const b = new Metrics();
    a.counter('x', 'X.')('', 5);
    b.counter('x', 'X.');
    expect(a.value('x')).toBe(5);
    expect(b.value('x')).toBe(0);
  });
});
