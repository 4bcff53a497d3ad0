/**
 * Ctrl-C (or SIGTERM) during `swarm submit` before its task is sent (loading, checking the input,
 * connecting): nothing was sent or charged, and the command says so (SWARM_INTERRUPTED, exit 130)
 * instead of dying silently by the signal's default action. From the moment the task is sent, the
 * submit's own handler says which key to ask about (submit.ts untilInterrupted); a submit that gets
 * there after an early signal (while the error drains) is stopped short of sending. No imports:
 * main.ts installs it before any command module loads.
 */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
let listener: ((signal: NodeJS.Signals) => void) | undefined;
/** How to ask about the task sent (its key), once one was: for an error after it (output that cannot be written). */
let askAboutSent: string | undefined;
/** A signal came before the task was sent: it never is, even if the submit gets that far before the exit. */
let interruptedBeforeSending = false;

/** Until taskSendingNow(), a signal calls `onInterrupt` with what to report. */
export function interruptsBeforeSending(onInterrupt: (message: string) => void): void {
  listener = (signal) => {
    interruptedBeforeSending = true;
    removeListener();
    onInterrupt(`${signal} before the task was sent: nothing was sent or charged`);
  };
  for (const s of SIGNALS) process.on(s, listener);
}

/**
 * The task is about to be sent: the submit's own handler takes over. `askAbout`: how to learn what
 * became of it (its key), for any later error that loses its answer. False when a signal already
 * came: the exit it started is waiting for its output to drain, and the task must not go out
 * meanwhile.
 */
export function taskSendingNow(askAbout?: string): boolean {
  if (interruptedBeforeSending) return false;
  if (askAbout !== undefined) askAboutSent = askAbout;
  removeListener();
  return true;
}

function removeListener(): void {
  if (!listener) return;
  for (const s of SIGNALS) process.off(s, listener);
  listener = undefined;
}

/** How to ask about the task this command sent, if it sent one. */
export function sentTaskHint(): string | undefined {
  return askAboutSent;
}
