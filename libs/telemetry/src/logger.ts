import pino, { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  nodeId?: string;
  level?: string;
  /** Where JSON lines go; stderr by default so stdout stays free for program output. */
  destination?: DestinationStream;
}

/** pino JSON lines; `service` and `nodeId` bound on every line, errors under `err`. */
export function createLogger(opts: LoggerOptions): Logger {
  const base: Record<string, string> = { service: opts.service };
  if (opts.nodeId) base['nodeId'] = opts.nodeId;
  return pino(
    { level: opts.level ?? 'info', base, timestamp: pino.stdTimeFunctions.isoTime, serializers: { err: pino.stdSerializers.err } },
    opts.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything (library defaults, quiet tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
