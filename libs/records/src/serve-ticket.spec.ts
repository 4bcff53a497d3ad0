import fc from 'fast-check';
import { createServeTickets, SERVE_TICKET_BYTES, serveTicketCap } from './index';
import { seededSigner } from './test-fixtures/seeded-signer';

const provider = seededSigner(1);
const other = seededSigner(2);
const payer = 'a'.repeat(64);
const stranger = 'b'.repeat(64);

describe('records - serve tickets', () => {
  it('mints the same 32-byte ticket for a requester and task after a restart (a new instance from the same key)', () => {
    const ticket = createServeTickets(provider).mint(payer, 'task-1', 100n);
    expect(ticket).toHaveLength(SERVE_TICKET_BYTES);
    expect(createServeTickets(provider).mint(payer, 'task-1', 100n)).toEqual(ticket);
    expect(createServeTickets(provider).holds(payer, 'task-1', ticket)).toBe(true);
  });

  it('carries its cap under the MAC: the cap it was minted with, and no other', () => {
    const tickets = createServeTickets(provider);
    const ticket = tickets.mint(payer, 'task-1', 640n);
    expect(tickets.capOf(payer, 'task-1', ticket)).toBe(640n);
    expect(tickets.capOf(stranger, 'task-1', ticket)).toBeUndefined();
    // A requester that raises the cap in its copy only makes the ticket no ticket.
    const raised = Uint8Array.from(ticket);
    new DataView(raised.buffer).setBigUint64(0, 10n ** 15n);
    expect(tickets.capOf(payer, 'task-1', raised)).toBeUndefined();
    expect(serveTicketCap(3n)).toBe(96n);
    expect(serveTicketCap(2n ** 63n)).toBe(2n ** 64n - 1n);
    expect(() => tickets.mint(payer, 'task-1', -1n)).toThrow(RangeError);
  });

  it('holds only for the requester, the task and the node it was minted for', () => {
    const tickets = createServeTickets(provider);
    const ticket = tickets.mint(payer, 'task-1', 100n);
    expect(tickets.holds(stranger, 'task-1', ticket)).toBe(false);
    expect(tickets.holds(payer, 'task-2', ticket)).toBe(false);
    // Another provider's ticket for the same pair is no ticket of this one.
    expect(tickets.holds(payer, 'task-1', createServeTickets(other).mint(payer, 'task-1', 100n))).toBe(false);
    // Field boundaries are not ambiguous: moving characters between requester and task id changes it.
    expect(tickets.mint('ab', 'c', 100n)).not.toEqual(tickets.mint('a', 'bc', 100n));
  });

  it('refuses an empty, short, long or altered ticket', () => {
    const tickets = createServeTickets(provider);
    const ticket = tickets.mint(payer, 'task-1', 100n);
    expect(tickets.holds(payer, 'task-1', new Uint8Array(0))).toBe(false);
    expect(tickets.holds(payer, 'task-1', ticket.subarray(0, 31))).toBe(false);
    expect(tickets.holds(payer, 'task-1', Uint8Array.from([...ticket, 0]))).toBe(false);
    for (let bit = 0; bit < SERVE_TICKET_BYTES * 8; bit++) {
      const altered = Uint8Array.from(ticket);
      altered[bit >> 3] ^= 1 << (bit & 7);
      expect(tickets.holds(payer, 'task-1', altered)).toBe(false);
    }
  });

  it('lets no guessed ticket through: 10,000 random 32-byte guesses for one task all refused (each passes with probability 2^-256)', () => {
    const tickets = createServeTickets(provider);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: SERVE_TICKET_BYTES, maxLength: SERVE_TICKET_BYTES }), (guess) => !tickets.holds(payer, 'task-1', guess)),
      { numRuns: 10_000 },
    );
  });
});
