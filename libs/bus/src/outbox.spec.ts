import { createOutbox } from './outbox';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('outbox - sends of one turn go together', () => {
  it('runs queued sends in order after the current turn, not before', async () => {
    const outbox = createOutbox();
    const sent: number[] = [];
    outbox.send(
      () => sent.push(1),
      () => undefined,
    );
    await Promise.resolve();
    outbox.send(
      () => sent.push(2),
      () => undefined,
    );
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toEqual([1, 2]);
  });

  it('hands a failed send to its own error callback and still runs the rest', async () => {
    const outbox = createOutbox();
    const errors: unknown[] = [];
    const sent: string[] = [];
    outbox.send(
      () => {
        throw new Error('closed');
      },
      (e) => errors.push(e),
    );
    outbox.send(
      () => sent.push('after'),
      (e) => errors.push(e),
    );
    await turn();
    expect(errors).toEqual([new Error('closed')]);
    expect(sent).toEqual(['after']);
  });

  it('flush sends at once, and nothing twice', async () => {
    const outbox = createOutbox();
    const sent: number[] = [];
    outbox.send(
      () => sent.push(1),
      () => undefined,
    );
    outbox.flush();
    expect(sent).toEqual([1]);
    await turn();
    expect(sent).toEqual([1]);
  });
});
