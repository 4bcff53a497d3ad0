/**
 * What tracing costs a task (`npm run bench -- --tracing`): nodes side by side, two per setting
 * (side-by-side-bench.ts), ledger fsync off where the services' CPU sets the pace, untraced and
 * exporting to a local stand-in collector (otlp-sink.ts) at the default sample ratio. A span
 * export (every 5 s) that lands in the other side's block goes uncounted, a small share at 1%
 * sampling.
 */
import { startOtlpSink } from './otlp-sink';
import type { SideBySideOptions, SideResult } from './side-by-side-bench';
import { benchSideBySide } from './side-by-side-bench';

export async function benchTracing(opts: SideBySideOptions): Promise<SideResult[]> {
  const sink = await startOtlpSink();
  try {
    return await benchSideBySide(
      [
        { name: 'untraced', syncWrites: false, env: {} },
        // The default ratio (SWARM_TRACE_SAMPLE_RATIO unset): what a node with tracing on pays.
        { name: 'traced (OTLP export, default sample ratio)', syncWrites: false, env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } },
      ],
      opts,
    );
  } finally {
    await sink.close();
  }
}
