/** For libs/dht's specs: virtual time moved on in steps (`stepMs`, at most `maxSteps` of them) until `promise` settles. Test-only; not exported from index.ts. */
import type { VirtualTime } from '@swarm/determinism';

export async function drive<T>(vt: VirtualTime, promise: Promise<T>, stepMs = 100, maxSteps = 1_000): Promise<T> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < maxSteps && !settled; i++) await vt.advance(stepMs);
  return promise;
}
