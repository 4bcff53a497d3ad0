import { SwarmError } from '@swarm/contracts';

/** The SwarmError `p` rejects with; the test fails if it resolves or rejects with anything else. */
export async function swarmErrorOf(p: Promise<unknown>): Promise<SwarmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SwarmError);
  return err as SwarmError;
}

/** The SwarmError `fn` throws; the test fails if it returns or throws anything else. */
export function swarmErrorThrownBy(fn: () => unknown): SwarmError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SwarmError);
  return err as SwarmError;
}
