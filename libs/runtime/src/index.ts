/**
 * @swarm/runtime: how the node's processes live and die. One package, one module per concern, because
 * the concerns build on each other (the supervisor spawns through spawnProcess and reads the exit
 * codes, a service's main uses shutdown and runMain, the nats-server launcher uses spawnProcess):
 *
 *   spawn-process     the one child-process wrapper: capped output capture, exit promise, kill-with-grace
 *   exit-codes        the exit statuses processes end with and supervisors read
 *   shutdown          the one place that listens for signals: bounded graceful stop, no exit
 *   run-main          the one place in the libraries that ends the process
 *   service-main      a service's main: config -> identity -> logs -> telemetry -> bus -> start -> shutdown
 *   first-connect     a service's first bus connection, retried
 *   nats-server       a nats-server child on a free loopback port; nats-auth: its closed-bus permissions
 *   supervised-nats   that nats-server restarted on the same port when it dies
 *   supervised-process, rotating-log   a service child restarted with backoff, its bounded log file
 *   compiled-entry    where a project's compiled entry point is (services run from dist/)
 *
 * The node launcher that composes these (start order, supervision report, node.json) is @swarm/node.
 */
export { spawnProcess, DEFAULT_CAPTURE_CHARS } from './spawn-process';
export type { SpawnProcessOptions, SpawnedProcess, ProcessExit, OutputTarget } from './spawn-process';
export { EXIT_OK, EXIT_FAILURE, EXIT_BAD_CONFIG, EXIT_INTERRUPTED } from './exit-codes';
export { interruptible, onShutdown, SHUTDOWN_SLACK_MS } from './shutdown';
export type { ShutdownOptions, ShutdownLog, Shutdown } from './shutdown';
export { runMain } from './run-main';
export { runServiceMain } from './service-main';
export type { ServiceContext, ServiceMainOptions } from './service-main';
export { startNatsServer, findNatsServer, NatsServerError, DEFAULT_MAX_PAYLOAD_BYTES, NATS_STOP_GRACE_MS } from './nats-server';
export type { NatsServerHandle, NatsServerOptions } from './nats-server';
export { startSupervised, RESTART_DELAY_MS, MAX_RESTART_BACKOFF_MS, DEFAULT_MAX_RESTARTS, STOP_ON_STDIN_EOF, EXECUTOR_NICENESS } from './supervised-process';
export type { SupervisedOptions, SupervisedProcess, ExitInfo } from './supervised-process';
export { createRotatingLog, DEFAULT_LOG_MAX_BYTES } from './rotating-log';
export { compiledNodeArgs, compiledPath } from './compiled-entry';
export { renderAuthorization, prepareClosedBus } from './nats-auth';
export type { BusUser } from './nats-auth';
export { startSupervisedNats, NATS_RESTART_MIN_MS, NATS_RESTART_MAX_MS } from './supervised-nats';
export type { SupervisedNats, NatsSupervisionEvent } from './supervised-nats';
export { readKeptFile, removeTemporaries, startKeptFile, setFileAside } from './kept-file';
export type { KeptFile, KeptFileDeps, KeptFileRead } from './kept-file';
