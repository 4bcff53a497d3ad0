/**
 * OpenTelemetry for one service process. Always installs the W3C propagator and an
 * AsyncLocalStorage context manager so trace context passes through even with no collector;
 * exports spans over OTLP/HTTP only when an endpoint is configured. Everything is passed to
 * NodeSDK explicitly (no resource detectors, no instrumentations, no OTEL_* exporter guessing). A failure to start warns and
 * leaves tracing off; it never stops the service.
 */
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';

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
