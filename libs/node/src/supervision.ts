/**
 * What the supervisor knows of each process of a node (nats-server and every service replica): its
 * state, restarts and last exit. `swarm health` shows it beside the bus's own answers (from
 * node.json), so a crash loop or a service given up on is visible even while the bus answers.
 */

export interface ProcessSupervision {
  /** running; restarting (after an exit, `nextRestartAt`); crash-looping (restarting with a backoff); stopped (a configuration error: not restarted). */
  state: 'running' | 'restarting' | 'crash-looping' | 'stopped';
  /** The current process, while one runs. */
  pid?: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  nextRestartAt?: string;
}

export type SupervisionReport = Record<string, ProcessSupervision>;

/** One exit as the supervisor saw it (libs/runtime ExitInfo). */
export interface SupervisedExit {
  code: number | null;
  signal: string | null;
  restarting: boolean;
  crashLoop: boolean;
  delayMs: number;
}

export interface SupervisionRecord {
  /** A copy: the caller may keep it. */
  report(): SupervisionReport;
  /** A process was (re)launched. */
  started(name: string, pid: number | undefined): void;
  exited(name: string, exit: SupervisedExit): void;
  /** The node's nats-server died; it is being restarted on the same port. */
  busExited(code: number | null): void;
  busRestarted(pid: number, restarts: number): void;
}

/** `now` in ms since the epoch: the times the report states. */
export function createSupervisionRecord(now: () => number): SupervisionRecord {
  const report: SupervisionReport = {};
  const at = (ms: number) => new Date(ms).toISOString();
  return {
    report: () => structuredClone(report),
    started(name, pid) {
      const prev = report[name];
      report[name] = { state: 'running', restarts: prev?.restarts ?? 0, ...(pid ? { pid } : {}), ...(prev?.lastExit ? { lastExit: prev.lastExit } : {}) };
    },
    exited(name, exit) {
      const t = now();
      const state: ProcessSupervision['state'] = !exit.restarting ? 'stopped' : exit.crashLoop ? 'crash-looping' : 'restarting';
      report[name] = {
        state,
        restarts: (report[name]?.restarts ?? 0) + (exit.restarting ? 1 : 0),
        lastExit: { code: exit.code, signal: exit.signal, at: at(t) },
        ...(exit.restarting ? { nextRestartAt: at(t + exit.delayMs) } : {}),
      };
    },
    busExited(code) {
      report['nats-server'] = { state: 'restarting', restarts: report['nats-server']?.restarts ?? 0, lastExit: { code, signal: null, at: at(now()) } };
    },
    busRestarted(pid, restarts) {
      report['nats-server'] = { ...report['nats-server'], state: 'running', pid, restarts };
    },
  };
}
