import type { Sleep } from '@swarm/pipeline';

/**
 * The pipeline's waits on real time: a timer that ends early when `signal` aborts (a stopping
 * router refunds at once). Lives in the app because the pipeline sets no timers of its own.
 */
export const timerSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
