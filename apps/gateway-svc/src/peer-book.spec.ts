import { createPeerBook } from './peer-book';

const id = (first: string) => first.padEnd(64, '0');

describe('peer book - the peers a gateway exchanged calls with', () => {
  it('lists peers closest to this node first, with address, last rtt and last seen', () => {
    const book = createPeerBook();
    const self = id('0');
    book.noteSeen(id('f'), '10.0.0.15:7700', 1_000);
    book.noteSeen(id('1'), '10.0.0.1:7700', 2_000);
    book.noteSeen(id('8'), '10.0.0.8:7700', 3_000);
    book.noteRtt(id('8'), 4.5);
    expect(book.list(self)).toEqual([
      { nodeId: id('1'), address: '10.0.0.1:7700', rttMs: 0, lastSeenMs: 2_000n },
      { nodeId: id('8'), address: '10.0.0.8:7700', rttMs: 4.5, lastSeenMs: 3_000n },
      { nodeId: id('f'), address: '10.0.0.15:7700', rttMs: 0, lastSeenMs: 1_000n },
    ]);
    // XOR, not numeric order: seen from 0xf…, 0xf… itself is closest and 0x1… farthest.
    expect(book.list(id('f')).map((p) => p.nodeId)).toEqual([id('f'), id('8'), id('1')]);
  });

  it('keeps the rtt when a peer is seen again at a new address, and ignores rtt for unknown peers', () => {
    const book = createPeerBook();
    book.noteSeen(id('a'), 'a.example:1', 1);
    book.noteRtt(id('a'), 3);
    book.noteRtt(id('b'), 9);
    book.noteRtt(id('a'), Number.NaN);
    book.noteSeen(id('a'), 'a.example:2', 5);
    expect(book.list(id('0'))).toEqual([{ nodeId: id('a'), address: 'a.example:2', rttMs: 3, lastSeenMs: 5n }]);
  });

  it('tells the address last noted for a peer, and nothing for one it does not hold', () => {
    const book = createPeerBook(1);
    book.noteSeen(id('a'), 'a.example:1', 1);
    book.noteSeen(id('a'), 'a.example:2', 2);
    expect(book.addressOf(id('a'))).toBe('a.example:2');
    expect(book.addressOf(id('b'))).toBeUndefined();
    book.noteSeen(id('b'), 'b.example:1', 3);
    expect(book.addressOf(id('a'))).toBeUndefined();
  });

  it('forgets the peer heard from least recently beyond its bound', () => {
    const book = createPeerBook(2);
    book.noteSeen(id('1'), 'h:1', 1);
    book.noteSeen(id('2'), 'h:2', 2);
    book.noteSeen(id('1'), 'h:1', 3);
    book.noteSeen(id('3'), 'h:3', 4);
    expect(book.size()).toBe(2);
    expect(book.list(id('0')).map((p) => p.nodeId)).toEqual([id('1'), id('3')]);
    expect(() => createPeerBook(0)).toThrow(RangeError);
  });
});
