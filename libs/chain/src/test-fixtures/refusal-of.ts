/** For tests: the error of `kind` that `fn` throws (anything else is thrown on; none fails the test). */
export function refusalOf<T extends Error>(kind: abstract new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (err) {
    if (err instanceof kind) return err;
    throw err;
  }
  throw new Error(`expected a ${kind.name}`);
}
