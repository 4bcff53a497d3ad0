/**
 * Runs async tasks one at a time, in the order they were queued. The ledger's read-modify-write
 * (read records, apply a rule, write one batch) is only correct if no other operation reads the
 * same records between its read and its write; one in-process queue guarantees that, and the
 * LevelDB lock guarantees no other process writes the same store.
 */
export interface SerialQueue {
  /** Queues `task`; a task that fails rejects its own promise and never stalls the queue. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks queued or running. */
  readonly size: number;
  /** Resolves once every task queued so far has finished. */
  drain(): Promise<void>;
}

export function createSerialQueue(): SerialQueue {
  let tail: Promise<void> = Promise.resolve();
  let size = 0;
  const settled = () => {
    size -= 1;
  };
  return {
    run(task) {
      size += 1;
      const result = tail.then(task);
      tail = result.then(settled, settled);
      return result;
    },
    get size() {
      return size;
    },
    drain: () => tail,
  };
}
