/**
 * CPU time and write syscalls of a process from Linux's /proc (utime + stime, `syscw`): the cost of
 * a task per service, which load on a shared machine hardly moves, unlike latency. Elsewhere, or
 * for a process that is gone, `undefined`.
 */
import { readFile } from 'node:fs/promises';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on every Linux architecture we run. */
const CLOCK_TICKS_PER_SEC = 100;

export interface ProcUsage {
  cpuMs: number;
  /** write(2)-family calls: socket writes, for a service that logs little. */
  writes: number;
}

export async function readProcUsage(pid: number): Promise<ProcUsage | undefined> {
  try {
    const [stat, io] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/io`, 'utf8')]);
    // Fields after the parenthesised command name (which may hold spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime (14), stime (15)
    const writes = Number(/^syscw: (\d+)$/m.exec(io)?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(writes)) return undefined;
    return { cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SEC, writes };
  } catch {
    return undefined;
  }
}

/** Usage of each process over `run`, divided by `ops` (or by what it answers after the run: a timed run's count): per-operation CPU ms and writes. */
export async function usagePerOp(processes: ReadonlyArray<{ name: string; pid: number }>, ops: number | (() => number), run: () => Promise<void>) {
  const before = await Promise.all(processes.map((p) => readProcUsage(p.pid)));
  await run();
  const after = await Promise.all(processes.map((p) => readProcUsage(p.pid)));
  const count = typeof ops === 'number' ? ops : ops();
  if (!(count > 0)) return [];
  return processes.flatMap((p, i) => {
    const b = before[i];
    const a = after[i];
    return a && b ? [{ name: p.name, cpuMsPerOp: (a.cpuMs - b.cpuMs) / count, writesPerOp: (a.writes - b.writes) / count }] : [];
  });
}
