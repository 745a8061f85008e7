/**
 * A map that keeps its most recently used entries within a budget: a number of entries, or, given
 * `weigh`, a total weight (bytes, entries of a list). For caches of content-addressed values, which
 * never go stale: only memory decides what stays. A weighed entry heavier than an eighth of the
 * budget is not kept (it would push out most of the others).
 */
export class Lru<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private weight = 0;
  private readonly weigh: (value: V) => number;
  private readonly heaviest: number;

  constructor(
    private readonly budget: number,
    weigh?: (value: V) => number,
  ) {
    this.weigh = weigh ?? (() => 1);
    this.heaviest = weigh ? budget / 8 : budget;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The entry, without marking it used (for reads that should not reorder the cache). */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, value: V): void {
    const weight = this.weigh(value);
    this.delete(key);
    if (weight > this.heaviest) return;
    this.entries.set(key, { value, weight });
    this.weight += weight;
    for (const [k, e] of this.entries) {
      if (this.weight <= this.budget) break;
      this.entries.delete(k);
      this.weight -= e.weight;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.weight -= entry.weight;
  }

  get size(): number {
    return this.entries.size;
  }
}
