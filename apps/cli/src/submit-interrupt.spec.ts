import { interruptsBeforeSending, sentTaskHint, taskSendingNow } from './submit-interrupt';

describe('CLI - a submit interrupted before its task is sent', () => {
  it('reports the signal once, and after it never lets the task be sent (the exit waits for its output)', () => {
    const said: string[] = [];
    const before = process.listenerCount('SIGINT');
    interruptsBeforeSending((message) => said.push(message));
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.emit('SIGINT', 'SIGINT');
    expect(said).toEqual(['SIGINT before the task was sent: nothing was sent or charged']);
    expect(process.listenerCount('SIGINT')).toBe(before);
    // The submit got as far as sending meanwhile: it may not, and no key is named as sent.
    expect(taskSendingNow('the task was sent (task key k)')).toBe(false);
    expect(sentTaskHint()).toBeUndefined();
  });
});
