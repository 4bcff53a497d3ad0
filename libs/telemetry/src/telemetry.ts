/**
 * OpenTelemetry for one service process. Always installs the W3C propagator and an
 * AsyncLocalStorage context manager so trace context passes through even with no collector;
 * exports spans over OTLP/HTTP only when an endpoint is configured. Everything is passed to
 * NodeSDK explicitly (no resource detectors, no instrumentations, no OTEL_* exporter guessing).
 * A failure to start warns and leaves tracing off; it never stops the service.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';

/**
 * The SDK is loaded on first use: requiring sdk-node and the exporter takes most of a second, and
 * processes that only pass trace context along (the CLI, via @swarm/bus) must not pay for it.
 */
function loadSdk() {
  return {
    ...(require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks')),
    ...(require('@opentelemetry/core') as typeof import('@opentelemetry/core')),
    ...(require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')),
    ...(require('@opentelemetry/resources') as typeof import('@opentelemetry/resources')),
    ...(require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node')),
    ...(require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base')),
  };
}

export interface TelemetryOptions {
  serviceName: string;
  nodeId: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); undefined = propagate only. */
  otlpEndpoint?: string | undefined;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
}

export interface TelemetryHandle {
  shutdown(): Promise<void>;
}

export function startTelemetry(opts: TelemetryOptions, log: Logger): TelemetryHandle {
  try {
    const { AsyncLocalStorageContextManager, BatchSpanProcessor, NodeSDK, NoopSpanProcessor, OTLPTraceExporter, resourceFromAttributes, W3CTraceContextPropagator } =
      loadSdk();
    const processors: SpanProcessor[] = [...(opts.spanProcessors ?? [])];
    if (opts.otlpEndpoint) {
      const url = `${opts.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
    }
    // NodeSDK registers no tracer provider without a processor; spans would then be non-recording
    // and a request with no (or a bad) traceparent would start no trace at all.
    if (processors.length === 0) processors.push(new NoopSpanProcessor());
    const sdk = new NodeSDK({
      resource: resourceFromAttributes({ 'service.name': opts.serviceName, 'swarm.node_id': opts.nodeId }),
      autoDetectResources: false,
      instrumentations: [],
      spanProcessors: processors,
      contextManager: new AsyncLocalStorageContextManager(),
      textMapPropagator: new W3CTraceContextPropagator(),
    });
    sdk.start();
    log.info({ otlpEndpoint: opts.otlpEndpoint ?? null }, opts.otlpEndpoint ? 'tracing exports over OTLP/HTTP' : 'tracing propagates only (no OTEL_EXPORTER_OTLP_ENDPOINT)');
    return {
      async shutdown() {
        try {
          await sdk.shutdown();
        } catch (err) {
          log.warn({ err }, 'telemetry shutdown failed');
        }
      },
    };
  } catch (err) {
    log.warn({ err }, 'telemetry failed to start; tracing is off');
    return { shutdown: async () => undefined };
  }
}
