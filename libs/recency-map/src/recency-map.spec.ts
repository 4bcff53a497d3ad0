import fc from 'fast-check';
import { RecencyMap } from './recency-map';

type Op = { readonly kind: 'set'; readonly key: number; readonly value: number } | { readonly kind: 'use' | 'get' | 'delete'; readonly key: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.nat(12), value: fc.integer() }),
    fc.record({ kind: fc.constantFrom('use' as const, 'get' as const, 'delete' as const), key: fc.nat(12) }),
  ),
  { maxLength: 200 },
);

/** The model: an array of entries, least recently used first, cut from the front past maxSize. */
function modelRun(maxSize: number, run: readonly Op[]): { entries: Array<[number, number]>; forgotten: Array<[number, number]>; reads: Array<number | undefined> } {
  let entries: Array<[number, number]> = [];
  const forgotten: Array<[number, number]> = [];
  const reads: Array<number | undefined> = [];
  for (const op of run) {
    const at = entries.findIndex(([k]) => k === op.key);
    const held = at >= 0 ? entries[at] : undefined;
    if (op.kind === 'get') reads.push(held?.[1]);
    else if (op.kind === 'delete') entries = entries.filter(([k]) => k !== op.key);
    else if (op.kind === 'use') {
      reads.push(held?.[1]);
      if (held) entries = [...entries.filter(([k]) => k !== op.key), held];
    } else if (op.kind === 'set') {
      entries = [...entries.filter(([k]) => k !== op.key), [op.key, op.value]];
      if (entries.length > maxSize) forgotten.push(entries.shift() as [number, number]);
    }
  }
  return { entries, forgotten, reads };
}

describe('recency map - a Map bounded to maxSize, least recently used forgotten first', () => {
  it('holds what a list ordered by use holds, for any run of set, use, get and delete', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), ops, (maxSize, run) => {
        const forgotten: Array<[number, number]> = [];
        const map = new RecencyMap<number, number>(maxSize, undefined, (k, v) => forgotten.push([k, v]));
        const reads: Array<number | undefined> = [];
        for (const op of run) {
          if (op.kind === 'set') map.set(op.key, op.value);
          else if (op.kind === 'use') reads.push(map.use(op.key));
          else if (op.kind === 'get') reads.push(map.get(op.key));
          else map.delete(op.key);
        }
        const model = modelRun(maxSize, run);
        expect([...map]).toEqual(model.entries);
        expect(forgotten).toEqual(model.forgotten);
        expect(reads).toEqual(model.reads);
        expect(map.size).toBeLessThanOrEqual(maxSize);
      }),
      { numRuns: 300 },
    );
  });

  it('makes a key set again the most recently used (a plain Map keeps its first place)', () => {
    const map = new RecencyMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...map]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });

  it('takes its first entries within its size, the last ones kept, each forgotten one told', () => {
    const forgotten: string[] = [];
    const map = new RecencyMap<string, number>(
      2,
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ],
      (k) => forgotten.push(k),
    );
    expect([...map.keys()]).toEqual(['b', 'c']);
    expect(forgotten).toEqual(['a']);
    map.delete('b');
    map.clear();
    expect(forgotten).toEqual(['a']);
  });

  it('is a Map to code that takes one, and refuses a size that holds nothing', () => {
    const map: Map<string, number> = new RecencyMap<string, number>(1);
    map.set('a', 1);
    expect(map instanceof Map && map.get('a')).toBe(1);
    for (const size of [0, -1, 1.5, Number.NaN, Infinity]) expect(() => new RecencyMap(size)).toThrow(`a recency map needs maxSize >= 1, got ${size}`);
  });
});
