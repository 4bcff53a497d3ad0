/**
 * A Map that holds at most `maxSize` entries and forgets the least recently set or used one first.
 * A node keeps many small memories keyed by what strangers choose (a peer's id, a name, a payer, a
 * receipt id); each is bounded this one way, so every bound reads and behaves the same.
 *
 * `set` makes its key the most recently used (also for a key already held: Map's own `set` would
 * keep its place). `get`, `has` and iteration leave the order alone; `use` reads and refreshes.
 * Iteration runs least recently used first.
 */

/** Told of each entry the map forgets to stay within its size (not of `delete` or `clear`). */
export type Forgotten<K, V> = (key: K, value: V) => void;

export class RecencyMap<K, V> extends Map<K, V> {
  readonly maxSize: number;
  readonly #forgotten: Forgotten<K, V> | undefined;

  constructor(maxSize: number, entries?: Iterable<readonly [K, V]>, forgotten?: Forgotten<K, V>) {
    // Map's constructor would call this.set before maxSize is known: the entries are added below.
    super();
    if (!Number.isSafeInteger(maxSize) || maxSize < 1) throw new RangeError(`a recency map needs maxSize >= 1, got ${maxSize}`);
    this.maxSize = maxSize;
    this.#forgotten = forgotten;
    if (entries !== undefined) for (const [key, value] of entries) this.set(key, value);
  }

  /** Holds `value` under `key`, now the most recently used; forgets the least recently used past maxSize. */
  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.maxSize) {
      const [oldKey, oldValue] = this.entries().next().value as [K, V];
      super.delete(oldKey);
      this.#forgotten?.(oldKey, oldValue);
    }
    return this;
  }

  /** The value held under `key`, which becomes the most recently used; undefined (nothing moved) when none is. */
  use(key: K): V | undefined {
    if (!super.has(key)) return undefined;
    const value = super.get(key) as V;
    super.delete(key);
    super.set(key, value);
    return value;
  }
}
