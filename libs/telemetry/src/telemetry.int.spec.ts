import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TELEMETRY_SHUTDOWN_TIMEOUT_MS } from './telemetry';

/** Timers and the event loop on a loaded 2-core machine. */
const SCHEDULING_SLACK_MS = 500;

interface Endpoint {
  url: string;
  /** Connections the exporter opened. */
  connections(): number;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

/** A port that just stopped listening: every export is refused at once, and retried. */
async function closedPort(): Promise<Endpoint> {
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return { url: `http://127.0.0.1:${port}`, connections: () => 0, close: async () => undefined };
}

/** A collector that accepts the request and never answers, as a hung one does. */
async function silentCollector(): Promise<Endpoint> {
  let connections = 0;
  const server = createServer(() => undefined);
  server.on('connection', () => (connections += 1));
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, connections: () => connections, close: () => close(server) };
}

/**
 * In a child process, as in a service: jest's module sandbox cannot run the exporter's dynamic
 * `import('http')`, so in-process every export would fail at once and prove nothing.
 */
const SCRIPT = `
const { trace } = require('@opentelemetry/api');
const { startTelemetry } = require(${JSON.stringify(resolve(__dirname, 'telemetry.ts'))});
const { silentLogger } = require(${JSON.stringify(resolve(__dirname, 'logger.ts'))});
const otel = startTelemetry({ serviceName: 'test-svc', nodeId: 'node-1', otlpEndpoint: process.env.OTLP_URL }, silentLogger());
trace.getTracer('test').startSpan('unexported work').end();
const started = performance.now();
otel.shutdown().then(() => {
  process.stdout.write(JSON.stringify({ shutdownMs: performance.now() - started }));
  process.exit(0);
});
`;

function shutdownInChild(otlpUrl: string): Promise<{ shutdownMs: number }> {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--import', tsx, '-e', SCRIPT], { env: { ...process.env, OTLP_URL: otlpUrl }, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return fail(new Error(`${err.message}\n${stderr}`));
      done(JSON.parse(stdout) as { shutdownMs: number });
    });
  });
}

describe('telemetry - shutdown without a working collector', () => {
  it.each([
    ['nothing listens on the OTLP port', closedPort, false],
    ['the collector never answers', silentCollector, true],
  ] as const)('returns within its bound when %s', async (_name, endpoint, countsConnections) => {
    const collector = await endpoint();
    try {
      const { shutdownMs } = await shutdownInChild(collector.url);
      expect(shutdownMs).toBeLessThan(TELEMETRY_SHUTDOWN_TIMEOUT_MS + SCHEDULING_SLACK_MS);
      // The span really was on its way out when shutdown gave up on it.
      if (countsConnections) expect(collector.connections()).toBeGreaterThan(0);
    } finally {
      await collector.close();
    }
  });
});
