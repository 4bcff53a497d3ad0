/**
 * Ctrl-C during `swarm submit`: the task may run on and be paid, so the command says which task
 * (its key, made up or given) before it exits 130, on stderr and, under --json, as the one error
 * document on stdout. The "node" is a bare nats-server whose router takes submits and never answers.
 */
import { RouterSubmit } from '@swarm/contracts';
import { spawnProcess } from '@swarm/runtime';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer, startSilentServer } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SWARM } from './run-cli';

describe('swarm submit - interrupted before the answer', () => {
  let server: NatsServerHandle;
  let silentRouter: NatsConnection;
  let taken = 0;

  beforeAll(async () => {
    server = await startNatsServer();
    silentRouter = await connect({ servers: server.url });
    silentRouter.subscribe(RouterSubmit.subject, { callback: () => (taken += 1) });
    await silentRouter.flush();
  });
  afterAll(async () => {
    await silentRouter?.close();
    await server?.stop();
  });

  it.each([
    ['made-up key, as a table', [] as string[], undefined],
    ['its own key, --json', ['--key', 'ctrl-c-1', '--json'], 'ctrl-c-1'],
  ])('names the task key and exits 130 on SIGINT (%s)', async (_name, extra, givenKey) => {
    const before = taken;
    const proc = spawnProcess({
      command: process.execPath,
      args: [SWARM, 'submit', '--skill', 'vecadd', '--size', '8', '--nats', server.url, ...extra],
      env: { ...process.env, SWARM_NATS_URL: '', SWARM_NATS_NKEY_FILE: '' },
      timeoutMs: 30_000,
    });
    const until = Date.now() + 15_000;
    while (taken === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(taken).toBe(before + 1);
    await proc.kill('SIGINT');
    const exit = await proc.exited;
    const line = proc.stderr().trim().split('\n').at(-1) ?? '';
    expect({ code: exit.code, line }).toEqual({
      code: 130,
      line: expect.stringMatching(/^error SWARM_INTERRUPTED: \(task key (cli-[0-9a-f-]{36}|ctrl-c-1)\) SIGINT before the answer came: .*swarm task --key /),
    });
    if (givenKey) {
      expect(line).toContain(`(task key ${givenKey})`);
      expect(JSON.parse(proc.stdout())).toEqual({ error: { code: 'SWARM_INTERRUPTED', message: expect.stringContaining(givenKey), exitStatus: 130 } });
    } else {
      expect(proc.stdout()).toBe('');
    }
  });
});

describe('swarm submit - interrupted before the task is sent', () => {
  it('says so when the signal comes while the CLI is still loading (before its own handler is in place)', async () => {
    // A preload that signals the process as main.js asks for its first module: a Ctrl-C in the
    // ~0.3 s a submit takes to load, made exact.
    const dir = await mkdtemp(join(tmpdir(), 'swarm-interrupt-'));
    const preload = join(dir, 'signal-while-loading.js');
    await writeFile(
      preload,
      `const Module = require('node:module');
const load = Module._load;
let sent = false;
Module._load = function (request, ...rest) {
  if (!sent && request === 'commander') { sent = true; process.kill(process.pid, 'SIGINT'); }
  return load.call(this, request, ...rest);
};
`,
    );
    try {
      const proc = spawnProcess({
        command: process.execPath,
        args: ['-r', preload, SWARM, 'submit', '--skill', 'vecadd', '--size', '8', '--nats', 'nats://127.0.0.1:1', '--json'],
        env: { ...process.env, SWARM_NATS_URL: '', SWARM_NATS_NKEY_FILE: '' },
        timeoutMs: 30_000,
      });
      const exit = await proc.exited;
      const line = proc.stderr().trim().split('\n').at(-1) ?? '';
      expect({ code: exit.code, signal: exit.signal, line }).toEqual({
        code: 130,
        signal: null,
        line: 'error SWARM_INTERRUPTED: SIGINT before the task was sent: nothing was sent or charged',
      });
      expect(JSON.parse(proc.stdout())).toEqual({ error: { code: 'SWARM_INTERRUPTED', message: 'SIGINT before the task was sent: nothing was sent or charged', exitStatus: 130 } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says nothing was sent or charged, and exits 130 (one error document under --json)', async () => {
    // A "bus" that takes the TCP connection and never says a word: the CLI waits in its connect.
    const mute = await startSilentServer();
    try {
      const { port } = mute;
      const proc = spawnProcess({
        command: process.execPath,
        args: [SWARM, 'submit', '--skill', 'vecadd', '--size', '8', '--nats', `nats://127.0.0.1:${port}`, '--json'],
        env: { ...process.env, SWARM_NATS_URL: '', SWARM_NATS_NKEY_FILE: '' },
        timeoutMs: 30_000,
      });
      const until = Date.now() + 15_000;
      while (mute.connections() === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(mute.connections()).toBe(1);
      await proc.kill('SIGINT');
      const exit = await proc.exited;
      const line = proc.stderr().trim().split('\n').at(-1) ?? '';
      expect({ code: exit.code, line }).toEqual({ code: 130, line: 'error SWARM_INTERRUPTED: SIGINT before the task was sent: nothing was sent or charged' });
      expect(JSON.parse(proc.stdout())).toEqual({ error: { code: 'SWARM_INTERRUPTED', message: 'SIGINT before the task was sent: nothing was sent or charged', exitStatus: 130 } });
    } finally {
      await mute.close();
    }
  });
});
