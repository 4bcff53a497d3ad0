/**
 * The node's nats-server under supervision: if it dies, it is started again on the same port with
 * the same configuration, so the node's URL never changes and every service (which reconnects
 * forever) finds its bus again. Restarts back off (capped) and never give up: an outage is
 * reported through `onEvent` and the handle's state, not turned into a dead node.
 */
import type { NatsServerHandle, NatsServerOptions } from './nats-server';
import { startNatsServer } from './nats-server';

export const NATS_RESTART_MIN_MS = 200;
export const NATS_RESTART_MAX_MS = 10_000;

export type NatsSupervisionEvent =
  { kind: 'exited'; code: number | null; pid: number } | { kind: 'restarted'; pid: number; restarts: number } | { kind: 'restart-failed'; error: string; retryInMs: number };

export interface SupervisedNats {
  readonly url: string;
  readonly port: number;
  /** The current process (changes on restart). */
  pid(): number;
  restarts(): number;
  /** True while the server is down and being restarted. */
  down(): boolean;
  stop(): Promise<void>;
}

export async function startSupervisedNats(opts: NatsServerOptions & { onEvent?(e: NatsSupervisionEvent): void }): Promise<SupervisedNats> {
  let current: NatsServerHandle = await startNatsServer(opts);
  const { port, url } = current;
  let restarts = 0;
  let down = false;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let waiting: (() => void) | undefined;
  let restarting: Promise<void> | undefined;

  const watch = (handle: NatsServerHandle) => {
    void handle.exited.then((code) => {
      if (stopping) return;
      down = true;
      opts.onEvent?.({ kind: 'exited', code, pid: handle.pid });
      restarting = restart(NATS_RESTART_MIN_MS);
    });
  };

  const restart = async (delayMs: number): Promise<void> => {
    await new Promise<void>((resolve) => {
      waiting = resolve;
      timer = setTimeout(resolve, delayMs);
    });
    waiting = undefined;
    if (stopping) return;
    try {
      current = await startNatsServer({ ...opts, port });
    } catch (err) {
      // The port may still be held (TIME_WAIT, or a stray process): try again, later each time.
      const retryInMs = Math.min(delayMs * 2, NATS_RESTART_MAX_MS);
      opts.onEvent?.({ kind: 'restart-failed', error: (err as Error).message.split('\n')[0] ?? '', retryInMs });
      return restart(retryInMs);
    }
    if (stopping) return current.stop();
    restarts += 1;
    down = false;
    opts.onEvent?.({ kind: 'restarted', pid: current.pid, restarts });
    watch(current);
  };

  watch(current);
  return {
    url,
    port,
    pid: () => current.pid,
    restarts: () => restarts,
    down: () => down,
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      waiting?.();
      // A restart under way finishes first (and stops what it started), then the current one stops.
      await restarting;
      await current.stop();
    },
  };
}
