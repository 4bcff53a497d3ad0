/**
 * OpenTelemetry for one service process. With an OTLP endpoint (or span processors, in tests) it
 * installs a tracer provider, the W3C propagator and a context manager that keeps no async context
 * (explicit-context.ts: handlers pass their trace to the requests they make), and
 * samples: a trace's first span decides (ratio `sampleRatio`) and every later span of it, in this
 * process or another one, follows that decision (parent-based), so one task is one whole trace or
 * nothing. Without either, nothing is installed: the API's no-ops cost about nothing, where a
 * provider that exported nothing still cost 6–8.5% of each service's CPU (issue 12).
 * Everything is passed to NodeSDK explicitly (no resource detectors, no instrumentations, no OTEL_*
 * exporter guessing). A failure to start warns and leaves tracing off; it never stops the service.
 */
import type * as OtelCore from '@opentelemetry/core';
import type * as OtlpHttpExporter from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtelResources from '@opentelemetry/resources';
import type * as SdkNode from '@opentelemetry/sdk-node';
import type * as SdkTraceBase from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { ExplicitContextManager } from './explicit-context';
import { configureTracing } from './trace-carrier';

/**
 * The SDK is loaded on first use: requiring sdk-node and the exporter takes most of a second, and
 * processes that only pass trace context along (the CLI, via @swarm/bus) must not pay for it.
 */
function loadSdk() {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
  return {
    ...(require('@opentelemetry/core') as typeof OtelCore),
    ...(require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttpExporter),
    ...(require('@opentelemetry/resources') as typeof OtelResources),
    ...(require('@opentelemetry/sdk-node') as typeof SdkNode),
    ...(require('@opentelemetry/sdk-trace-base') as typeof SdkTraceBase),
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * One OTLP request, retries included. The exporter's default (10 s, then up to 5 retries with
 * backoff) made a stop with no collector take 11-15 s, past every service's grace period.
 */
export const OTLP_EXPORT_TIMEOUT_MS = 1_000;
/**
 * `shutdown()` resolves within this, flushed or not. Services call it last, inside the 2 s
 * SHUTDOWN_SLACK_MS (libs/runtime) that follows their grace period, after draining NATS.
 */
export const TELEMETRY_SHUTDOWN_TIMEOUT_MS = 1_000;
/** Share of new traces recorded when the caller does not say: all (tests assert whole traces). */
export const DEFAULT_SAMPLE_RATIO = 1;

export interface TelemetryOptions {
  serviceName: string;
  nodeId: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); undefined, with no `spanProcessors`: tracing off. */
  otlpEndpoint?: string | undefined;
  /** Share of new traces recorded, in [0, 1] (SWARM_TRACE_SAMPLE_RATIO); default DEFAULT_SAMPLE_RATIO. */
  sampleRatio?: number;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
}

export interface TelemetryHandle {
  shutdown(): Promise<void>;
}

const TRACING_OFF: TelemetryHandle = { shutdown: async () => undefined };

export function startTelemetry(opts: TelemetryOptions, log: Logger): TelemetryHandle {
  const sampleRatio = opts.sampleRatio ?? DEFAULT_SAMPLE_RATIO;
  if (!opts.otlpEndpoint && (opts.spanProcessors ?? []).length === 0) {
    log.info({ otlpEndpoint: null }, 'tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)');
    return TRACING_OFF;
  }
  if (!(sampleRatio >= 0 && sampleRatio <= 1)) throw new RangeError(`sampleRatio must be in [0, 1], got ${sampleRatio}`);
  try {
    const { AlwaysOnSampler, BatchSpanProcessor, NodeSDK, OTLPTraceExporter, ParentBasedSampler, resourceFromAttributes, W3CTraceContextPropagator } = loadSdk();
    const processors: SpanProcessor[] = [...(opts.spanProcessors ?? [])];
    if (opts.otlpEndpoint) {
      const url = `${opts.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
      const exporter = new OTLPTraceExporter({ url, timeoutMillis: OTLP_EXPORT_TIMEOUT_MS });
      processors.push(new BatchSpanProcessor(exporter, { exportTimeoutMillis: OTLP_EXPORT_TIMEOUT_MS }));
    }
    const sdk = new NodeSDK({
      resource: resourceFromAttributes({ 'service.name': opts.serviceName, 'swarm.node_id': opts.nodeId }),
      autoDetectResources: false,
      instrumentations: [],
      spanProcessors: processors,
      // New traces are drawn at `sampleRatio` by startChildSpan (trace-carrier.ts), which asks the
      // tracer only for those it records: every span must start through it, since a root started
      // on the tracer directly is always recorded.
      sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
      contextManager: new ExplicitContextManager(),
      textMapPropagator: new W3CTraceContextPropagator(),
    });
    sdk.start();
    configureTracing(true, sampleRatio);
    log.info({ otlpEndpoint: opts.otlpEndpoint ?? null, sampleRatio }, opts.otlpEndpoint ? 'tracing exports over OTLP/HTTP' : 'tracing to in-process span processors only');
    return {
      async shutdown() {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), TELEMETRY_SHUTDOWN_TIMEOUT_MS);
          timer.unref();
        });
        try {
          // A hung or absent collector must not hold the process: spans still queued are dropped.
          const outcome = await Promise.race([sdk.shutdown().then(() => 'done' as const), timedOut]);
          if (outcome === 'timeout')
            log.warn({ timeoutMs: TELEMETRY_SHUTDOWN_TIMEOUT_MS, otlpEndpoint: opts.otlpEndpoint ?? null }, 'telemetry shutdown timed out; unexported spans dropped');
        } catch (err) {
          log.warn({ err }, 'telemetry shutdown failed');
        } finally {
          clearTimeout(timer);
        }
      },
    };
  } catch (err) {
    log.warn({ err }, 'telemetry failed to start; tracing is off');
    return TRACING_OFF;
  }
}
