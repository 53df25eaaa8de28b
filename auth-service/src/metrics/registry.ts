// A small Prometheus registry (text exposition format 0.0.4): counters with labels and
// histograms. Children are bound once per label set, so counting on the hot path is one
// addition with no allocation.

type LabelValues = readonly string[];

interface Metric {
  readonly name: string;
  render(): string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function labelText(names: readonly string[], values: LabelValues, extra = ''): string {
  const pairs = names.map((name, index) => `${name}="${escapeLabelValue(values[index] ?? '')}"`);

  if (extra !== '') {
    pairs.push(extra);
  }

  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) {
    return '+Inf';
  }

  return Number.isInteger(value) ? value.toString() : value.toPrecision(12).replace(/\.?0+$/, '');
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

function checkNames(name: string, labelNames: readonly string[]): void {
  if (!METRIC_NAME.test(name)) {
    throw new TypeError(`metric name ${JSON.stringify(name)} is not a valid Prometheus name`);
  }

  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') {
      throw new TypeError(`label name ${JSON.stringify(label)} of ${name} is not allowed`);
    }
  }
}

/** One time series of a counter. */
export class CounterChild {
  value = 0;

  inc(amount = 1): void {
    if (!(amount >= 0)) {
      throw new RangeError('a counter only goes up');
    }

    this.value += amount;
  }
}

export class Counter implements Metric {
  readonly #children = new Map<string, { values: LabelValues; child: CounterChild }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {
    checkNames(name, labelNames);
  }

  /** The series for these label values (in labelNames order); bind it once, then inc(). */
  labels(...values: string[]): CounterChild {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name} takes ${this.labelNames.length} label values`);
    }

    const key = values.join('\u0000');
    let entry = this.#children.get(key);

    if (entry === undefined) {
      entry = { values, child: new CounterChild() };
      this.#children.set(key, entry);
    }

    return entry.child;
  }

  inc(amount = 1): void {
    this.labels().inc(amount);
  }

  render(): string {
    let text = header(this.name, this.help, 'counter');

    for (const { values, child } of this.#children.values()) {
      text += `${this.name}${labelText(this.labelNames, values)} ${formatNumber(child.value)}\n`;
    }

    return text;
  }
}

/** One time series of a histogram. */
export class HistogramChild {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;

    // Cumulative buckets are summed at render time; here only the first fitting bucket counts.
    for (let index = 0; index < this.bounds.length; index += 1) {
      if (value <= (this.bounds[index] ?? Number.POSITIVE_INFINITY)) {
        this.counts[index] = (this.counts[index] ?? 0) + 1;

        return;
      }
    }
  }
}

export class Histogram implements Metric {
  readonly #children = new Map<string, { values: LabelValues; child: HistogramChild }>();
  readonly bounds: readonly number[];

  constructor(
    readonly name: string,
    readonly help: string,
    bounds: readonly number[],
    readonly labelNames: readonly string[] = [],
  ) {
    checkNames(name, labelNames);

    const sorted = [...bounds].sort((a, b) => a - b);

    if (sorted.length === 0 || sorted.some((bound, index) => bound === sorted[index - 1])) {
      throw new TypeError(`${name} needs distinct bucket bounds`);
    }

    this.bounds = Object.freeze(sorted);
  }

  labels(...values: string[]): HistogramChild {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name} takes ${this.labelNames.length} label values`);
    }

    const key = values.join('\u0000');
    let entry = this.#children.get(key);

    if (entry === undefined) {
      entry = { values, child: new HistogramChild(this.bounds) };
      this.#children.set(key, entry);
    }

    return entry.child;
  }

  observe(value: number): void {
    this.labels().observe(value);
  }

  render(): string {
    let text = header(this.name, this.help, 'histogram');

    for (const { values, child } of this.#children.values()) {
      let cumulative = 0;

      for (let index = 0; index < this.bounds.length; index += 1) {
        cumulative += child.counts[index] ?? 0;
        const le = `le="${formatNumber(this.bounds[index] ?? 0)}"`;
        text += `${this.name}_bucket${labelText(this.labelNames, values, le)} ${cumulative}\n`;
      }

      const inf = labelText(this.labelNames, values, 'le="+Inf"');
      const plain = labelText(this.labelNames, values);
      text += `${this.name}_bucket${inf} ${child.count}\n`;
      text += `${this.name}_sum${plain} ${formatNumber(child.sum)}\n`;
      text += `${this.name}_count${plain} ${child.count}\n`;
    }

    return text;
  }
}

/** Holds every metric of the process; `/metrics` serves `render()`. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  /** The counter with this name, created on first use; the same name twice gives the same one. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const existing = this.#metrics.get(name);

    if (existing instanceof Counter && sameLabels(existing.labelNames, labelNames)) {
      return existing;
    }

    return this.#register(new Counter(name, help, labelNames));
  }

  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    return this.#register(new Histogram(name, help, bounds, labelNames));
  }

  /** The Prometheus text exposition of every registered metric. */
  render(): string {
    let text = '';

    for (const metric of this.#metrics.values()) {
      text += metric.render();
    }

    return text;
  }

  #register<T extends Metric>(metric: T): T {
    if (this.#metrics.has(metric.name)) {
      throw new TypeError(`metric ${metric.name} is already registered with another shape`);
    }

    this.#metrics.set(metric.name, metric);

    return metric;
  }
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

/** The Content-Type `/metrics` must answer with. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
