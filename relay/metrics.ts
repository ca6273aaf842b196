// The relay's counters and gauges, rendered both as Prometheus text (GET /metrics) and as
// JSON (GET /api/stats) from one registry, so that the two can never disagree.

interface Series {
  name: string;
  help: string;
  kind: 'counter' | 'gauge';
  labelName?: string;
  values: Map<string, number>;
}

export class Metrics {
  private readonly series = new Map<string, Series>();
  private readonly gauges = new Map<string, () => number>();

  counter(name: string, help: string, labelName?: string): (label?: string, by?: number) => void {
    const s = this.define(name, help, 'counter', labelName);
    return (label = '', by = 1) => {
      s.values.set(label, (s.values.get(label) ?? 0) + by);
    };
  }

  /** A gauge read when the metrics are rendered. */
  gauge(name: string, help: string, read: () => number): void {
    this.define(name, help, 'gauge');
    this.gauges.set(name, read);
  }

  private define(name: string, help: string, kind: Series['kind'], labelName?: string): Series {
    if (this.series.has(name)) throw new Error(`metric ${name} defined twice`);
    const s: Series = { name, help, kind, values: new Map() };
    if (labelName) s.labelName = labelName;
    this.series.set(name, s);
    return s;
  }

  private refreshGauges(): void {
    for (const [name, read] of this.gauges) this.series.get(name)!.values.set('', read());
  }

  /** The Prometheus text exposition format, version 0.0.4. */
  prometheus(prefix = 'strata_relay_'): string {
    this.refreshGauges();
    const out: string[] = [];
    for (const s of this.series.values()) {
      const full = prefix + s.name + (s.kind === 'counter' ? '_total' : '');
      out.push(`# HELP ${full} ${escapeHelp(s.help)}`, `# TYPE ${full} ${s.kind}`);
      if (s.values.size === 0 && !s.labelName) out.push(`${full} 0`);
      for (const [label, value] of s.values) {
        const labels = s.labelName && label ? `{${s.labelName}="${escapeLabel(label)}"}` : '';
        out.push(`${full}${labels} ${value}`);
      }
    }
    return out.join('\n') + '\n';
  }

  /** `{ name: value }` for unlabelled series, `{ name: { label: value } }` for labelled ones. */
  json(): Record<string, number | Record<string, number>> {
    this.refreshGauges();
    const out: Record<string, number | Record<string, number>> = {};
    for (const s of this.series.values()) {
      out[s.name] = s.labelName ? Object.fromEntries(s.values) : (s.values.get('') ?? 0);
    }
    return out;
  }

  /** Current value of an unlabelled series or the sum over labels. */
  value(name: string): number {
    this.refreshGauges();
    const s = this.series.get(name);
    if (!s) throw new Error(`no metric ${name}`);
    let sum = 0;
    for (const v of s.values.values()) sum += v;
    return sum;
  }
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
