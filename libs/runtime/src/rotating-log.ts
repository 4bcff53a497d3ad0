/**
 * A service's log file of bounded size: what the supervisor pipes a child's output into.
 */
import type { WriteStream } from 'node:fs';
import { createWriteStream, openSync, renameSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * A log reaching this size moves to `<file>.1` (replacing the older one) and a new file starts, so
 * one service's logs take at most about twice this on disk, however much it writes (a flood once
 * wrote 294 MB in 10 s).
 */
export const DEFAULT_LOG_MAX_BYTES = 32 * 1024 * 1024;
/** The owner's alone, whatever the umask: logs carry task and peer data. */
const LOG_FILE_MODE = 0o600;

/**
 * A Writable onto `file` (appending) that rotates it once it would pass `maxBytes`: the file
 * becomes `<file>.1` and a new one starts. Lines stay whole: the file being closed is first given
 * the rest of its last line (a line longer than the cap makes it a little larger). Piping into it
 * keeps the pipe's backpressure: a write completes only when the file has it.
 */
export function createRotatingLog(file: string, maxBytes: number): Writable {
  // Opened here, not lazily by the stream: a rename must find the file, and a stream must be bound
  // to its file before the next rotation renames it.
  const open = () => createWriteStream(file, { fd: openSync(file, 'a', LOG_FILE_MODE) });
  let size = sizeOf(file);
  let atLineEnd = true;
  let out: WriteStream = open();
  const rotate = () => {
    // The old stream keeps its descriptor, so what it still holds lands in the renamed file.
    out.end();
    renameSync(file, `${file}.1`);
    out = open();
    size = 0;
  };
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        let rest = chunk;
        if (size > 0 && size + rest.length > maxBytes) {
          const cut = atLineEnd ? 0 : rest.indexOf(0x0a) + 1;
          // No newline yet: the line goes on here. Ending exactly at the chunk's end: the chunk
          // goes here whole, and the next write starts the new file with a new line.
          if ((atLineEnd || cut > 0) && cut < rest.length) {
            if (cut > 0) out.write(rest.subarray(0, cut));
            rest = rest.subarray(cut);
            rotate();
          }
        }
        size += rest.length;
        if (rest.length > 0) atLineEnd = rest[rest.length - 1] === 0x0a;
        out.write(rest, (err) => done(err ?? undefined));
      } catch (err) {
        done(err as Error);
      }
    },
    final(done) {
      out.end(() => done());
    },
  });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
