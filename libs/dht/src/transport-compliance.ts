/**
 * One suite for every DhtTransport (as js-libp2p's interface-compliance-tests do): the memory
 * network passes it here, the gateway transport (libs/dht-gateway) over gRPC. Call it from a transport's
 * spec file. `makeHarness` gives three transports that can reach each other (endpoints a, b, c),
 * a way to make one unreachable, and `settle(promise)` which moves whatever time the transport
 * runs on until the promise settles (virtual time: advance; real time: just await).
 * Jest globals: only test files call it.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { DhtHandlers, DhtTransport, WireContact } from './wire';

export interface TransportHarness {
  readonly transports: readonly [DhtTransport, DhtTransport, DhtTransport];
  /**
   * The DHT id each transport's node sends as. A transport that binds ids to authenticated peers
   * (the gateway's) sends and accepts only these; the memory network takes any.
   */
  readonly ids: readonly [string, string, string];
  /** The transport at this index stops answering as a crashed node would. */
  makeUnreachable(index: number): void | Promise<void>;
  settle<T>(promise: Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

const NO_ANSWER_CODES = [ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, ErrorCode.ERROR_CODE_UNAVAILABLE];

/** Answers with `selfId` and, to findNode, the one contact `known` (a node that really exists). */
function echoHandlers(selfId: string, known: WireContact, seen: string[]): DhtHandlers {
  return {
    ping: (from, req) => (seen.push(`ping ${from} ${req.id}`), { remoteId: selfId }),
    store: (from, req) => (
      seen.push(`store ${from} ${req.key} ${Buffer.from(req.value).toString('hex')}`),
      { stored: req.key !== 'refuse-me', refusal: req.key === 'refuse-me' ? 'refused by test' : '' }
    ),
    findNode: () => ({ contacts: [known] }),
    findValue: async (_from, req) => {
      if (req.key === 'fail-me') throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad key for test');
      if (req.key === 'crash-me') throw new Error('internal detail that must not leak');
      // A holder's page: what follows the one asked for.
      if (req.key === 'paged') return { values: [Uint8Array.from([1])], contacts: [], moreAfter: req.paged === true ? `after ${req.after}` : '', paged: req.paged === true };
      return { values: [Uint8Array.from([0]), new Uint8Array(0)], contacts: [] };
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<SwarmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SwarmError);
  return err as SwarmError;
}

export function dhtTransportCompliance(name: string, makeHarness: () => Promise<TransportHarness>): void {
  describe(`dht transport compliance - ${name}`, () => {
    let h: TransportHarness;
    let seenByB: string[];
    let ID_A: string;
    let ID_B: string;
    let contactC: WireContact;
    beforeEach(async () => {
      h = await makeHarness();
      [ID_A, ID_B] = h.ids;
      contactC = { id: h.ids[2], endpoint: h.transports[2].endpoint };
      seenByB = [];
      h.transports[1].listen(echoHandlers(ID_B, contactC, seenByB));
    });
    afterEach(async () => h.cleanup());

    it('carries each of the four calls and names the sender by its endpoint', async () => {
      const [a, b] = h.transports;
      expect(await h.settle(a.ping(b.endpoint, { id: ID_A }))).toEqual({ remoteId: ID_B });
      expect(await h.settle(a.store(b.endpoint, { id: ID_A, key: 'k', value: Uint8Array.from([1, 2]) }))).toEqual({ stored: true, refusal: '' });
      expect(await h.settle(a.findNode(b.endpoint, { id: ID_A, targetId: ID_B }))).toEqual({ contacts: [contactC] });
      expect(seenByB).toEqual([`ping ${a.endpoint} ${ID_A}`, `store ${a.endpoint} k 0102`]);
    });

    it('delivers values as bytes, falsy and empty ones included', async () => {
      const [a, b] = h.transports;
      const reply = await h.settle(a.findValue(b.endpoint, { id: ID_A, targetId: ID_B, key: 'k' }));
      expect(reply.values.map((v) => [...v])).toEqual([[0], []]);
      expect(reply.values[0]).toBeInstanceOf(Uint8Array);
    });

    it('carries the paging of a find-value both ways: the page asked for, and the one after it', async () => {
      const [a, b] = h.transports;
      const page = await h.settle(a.findValue(b.endpoint, { id: ID_A, targetId: ID_B, key: 'paged', paged: true, after: 'p07' }));
      expect({ moreAfter: page.moreAfter, paged: page.paged }).toEqual({ moreAfter: 'after p07', paged: true });
      const unpaged = await h.settle(a.findValue(b.endpoint, { id: ID_A, targetId: ID_B, key: 'paged' }));
      expect({ moreAfter: unpaged.moreAfter ?? '', paged: unpaged.paged ?? false }).toEqual({ moreAfter: '', paged: false });
    });

    it('carries a refusal as a reply, not an error', async () => {
      const [a, b] = h.transports;
      expect(await h.settle(a.store(b.endpoint, { id: ID_A, key: 'refuse-me', value: new Uint8Array(1) }))).toEqual({ stored: false, refusal: 'refused by test' });
    });

    it("rejects with the handler's SwarmError code, and INTERNAL without detail for any other failure", async () => {
      const [a, b] = h.transports;
      const coded = await rejection(h.settle(a.findValue(b.endpoint, { id: ID_A, targetId: ID_B, key: 'fail-me' })));
      expect(coded.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      const internal = await rejection(h.settle(a.findValue(b.endpoint, { id: ID_A, targetId: ID_B, key: 'crash-me' })));
      expect(internal.code).toBe(ErrorCode.ERROR_CODE_INTERNAL);
      expect(internal.message).not.toContain('internal detail');
    });

    // No answer is DEADLINE_EXCEEDED where silence is all a caller sees (a lost message, the memory
    // network), and may be UNAVAILABLE where the network says so at once (connection refused, or a
    // gateway whose DHT is not running); the DHT treats both as a failed contact.
    it('fails a call to an unreachable peer and to one that never listened', async () => {
      const [a, b, c] = h.transports;
      await h.makeUnreachable(1);
      expect(NO_ANSWER_CODES).toContain((await rejection(h.settle(a.ping(b.endpoint, { id: ID_A })))).code);
      expect(NO_ANSWER_CODES).toContain((await rejection(h.settle(a.ping(c.endpoint, { id: ID_A })))).code);
      expect(seenByB).toEqual([]);
    });

    it('refuses to send after close, and a closed peer no longer answers', async () => {
      const [a, b, c] = h.transports;
      await c.close();
      expect((await rejection(h.settle(c.ping(b.endpoint, { id: ID_A })))).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
      await b.close();
      expect(NO_ANSWER_CODES).toContain((await rejection(h.settle(a.ping(b.endpoint, { id: ID_A })))).code);
      expect(seenByB).toEqual([]);
    });

    it('listens once', () => {
      expect(() => h.transports[1].listen(echoHandlers(ID_B, contactC, []))).toThrow();
    });
  });
}
