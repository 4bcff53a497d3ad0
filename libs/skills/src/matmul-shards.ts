/**
 * A sharded matmul (docs/sharding.md): c = a·b split into row blocks. Block j is a[r0:r1,:]·b, itself
 * a matmul whose result is c[r0:r1,:], so each block runs and is verified (Freivalds) as one task;
 * the blocks put back in row order are c. Pure: no copies of `a` (each block views its rows).
 */
import type { DenseTensor } from '@swarm/contracts';
import { invalid } from './input-checks';
import { matmulDims } from './matmul';

/** Rows [start, end) of `a` and `c`. */
export interface RowBlock {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/**
 * `rows` split into `shards` contiguous blocks, as even as possible: the first `rows % shards`
 * blocks have one row more than the others. Every block has at least one row.
 */
export function rowBlocks(rows: number, shards: number): RowBlock[] {
  if (!Number.isSafeInteger(rows) || rows < 1) throw invalid(`a sharded matmul needs at least 1 row, got ${String(rows).slice(0, 16)}`);
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > rows) {
    throw invalid(`shards must be a whole number from 1 to the ${rows} row(s) of a, got ${String(shards).slice(0, 16)}`);
  }
  const base = Math.floor(rows / shards);
  const longer = rows % shards;
  const blocks: RowBlock[] = [];
  let start = 0;
  for (let index = 0; index < shards; index++) {
    const end = start + base + (index < longer ? 1 : 0);
    blocks.push({ index, start, end });
    start = end;
  }
  return blocks;
}

/** The inputs of each block's matmul: a view of a's rows, and b whole. */
export function splitMatmul(inputs: readonly DenseTensor[], blocks: readonly RowBlock[]): DenseTensor[][] {
  const [a, b] = inputs;
  const { k } = matmulDims(inputs);
  return blocks.map((block) => [{ name: a.name, shape: [block.end - block.start, k], data: a.data.subarray(block.start * k, block.end * k) }, b]);
}

/**
 * c of shape [n, m] from each block's output (same order as `blocks`, which must cover 0..n in
 * order). Throws INVALID_ARGUMENT when an output's shape does not match its block.
 */
export function assembleRows(blocks: readonly RowBlock[], outputs: readonly DenseTensor[], m: number): DenseTensor {
  if (outputs.length !== blocks.length) throw invalid(`${blocks.length} row blocks need as many outputs, got ${outputs.length}`);
  const n = blocks.length === 0 ? 0 : blocks[blocks.length - 1].end;
  const c = new Float32Array(n * m);
  let next = 0;
  blocks.forEach((block, j) => {
    const out = outputs[j];
    const rows = block.end - block.start;
    if (block.start !== next || rows < 1) throw invalid(`row block ${j} covers rows [${block.start}, ${block.end}); the next row is ${next}`);
    if (out.shape.length !== 2 || out.shape[0] !== rows || out.shape[1] !== m || out.data.length !== rows * m) {
      throw invalid(`row block ${j} needs an output of shape [${rows},${m}], got [${out.shape.join(',')}]`);
    }
    c.set(out.data, block.start * m);
    next = block.end;
  });
  return { name: 'c', shape: [n, m], data: c };
}
