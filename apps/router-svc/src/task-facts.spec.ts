import { toTensor } from '@swarm/contracts';
import { sharesOf, taskFactsOf, tensorsDigest } from './task-facts';

const NODE = 'a'.repeat(64);
const PEER = 'b'.repeat(64);
const t = (name: string, data: number[]) => toTensor(name, [data.length], Float32Array.from(data));

describe('task facts for receipts', () => {
  it('hashes tensor lists so that different lists never share a digest', () => {
    const one = tensorsDigest([t('a', [1, 2]), t('b', [3])]);
    expect(one).toHaveLength(32);
    expect(Buffer.from(tensorsDigest([t('a', [1, 2]), t('b', [3])]))).toEqual(Buffer.from(one));
    expect(Buffer.from(tensorsDigest([t('a', [1, 2, 3])]))).not.toEqual(Buffer.from(one));
    expect(Buffer.from(tensorsDigest([t('b', [3]), t('a', [1, 2])]))).not.toEqual(Buffer.from(one));
    expect(Buffer.from(tensorsDigest([]))).not.toEqual(Buffer.from(one));
  });

  it('gives each payee its part of what was paid, in ppm rounded down, and none for one payee', () => {
    expect(sharesOf([{ payee: PEER, amount: 5n }])).toEqual([]);
    const shares = sharesOf([
      { payee: NODE, amount: 1n },
      { payee: PEER, amount: 2n },
    ]);
    expect(shares).toEqual([
      { nodeId: NODE, sharePpm: 333_333 },
      { nodeId: PEER, sharePpm: 666_666 },
    ]);
    expect(shares.reduce((s, x) => s + x.sharePpm, 0)).toBeLessThanOrEqual(1_000_000);
  });

  it('names the task only for a settle that pays another node', () => {
    const facts = { inputs: [t('x', [1])], outputs: [t('y', [2])], payeeKeys: new Map([[PEER, { publicKey: new Uint8Array(32), serveTicket: new Uint8Array(32).fill(7) }]]) };
    expect(taskFactsOf('task-1', NODE, [{ payee: NODE, amount: 3n }], facts)).toBeUndefined();
    expect(taskFactsOf('task-1', NODE, [{ payee: PEER, amount: 3n }], undefined)).toBeUndefined();
    const named = taskFactsOf('task-1', NODE, [{ payee: PEER, amount: 3n }], facts);
    expect(named).toMatchObject({ taskId: 'task-1', shares: [], payeeKeys: [{ nodeId: PEER, serveTicket: new Uint8Array(32).fill(7) }] });
    expect(named?.taskHash).toHaveLength(32);
    expect(Buffer.from(named?.resultHash ?? [])).not.toEqual(Buffer.from(named?.taskHash ?? []));
  });
});
