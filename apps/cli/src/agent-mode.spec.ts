import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentApiUrl, agentClientFor, agentToken, usesAgentApi } from './agent-mode';
import { CliError } from './cli-error';

const TOKEN = `swt_${'A'.repeat(43)}`;

/** The CliError a call throws (synchronously or not), or a failure naming what it returned instead. */
async function cliErrorOf(call: () => unknown): Promise<CliError> {
  try {
    await call();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('expected a CliError');
}

describe('agent mode - bus or agent API', () => {
  it.each([
    ['nothing set: the bus, as before', {}, {}, false],
    ['a token and no bus flag: the agent API', {}, { SWARM_AGENT_TOKEN: TOKEN }, true],
    ['SWARM_API_URL alone: the agent API (and then a missing-token error)', {}, { SWARM_API_URL: 'http://127.0.0.1:8080' }, true],
    ['--api-url: the agent API', { apiUrl: 'http://127.0.0.1:8080' }, {}, true],
    ['--api-url beats SWARM_NATS_URL', { apiUrl: 'http://127.0.0.1:8080' }, { SWARM_NATS_URL: 'nats://127.0.0.1:4333' }, true],
    ['--nats beats a token', { nats: 'nats://127.0.0.1:4333' }, { SWARM_AGENT_TOKEN: TOKEN }, false],
    ['--data-dir beats a token and SWARM_API_URL', { dataDir: '/tmp/x' }, { SWARM_AGENT_TOKEN: TOKEN, SWARM_API_URL: 'http://h:1' }, false],
    ['--node beats a token', { node: 2 }, { SWARM_AGENT_TOKEN: TOKEN }, false],
    ['SWARM_NATS_URL alone: the bus', {}, { SWARM_NATS_URL: 'nats://127.0.0.1:4333' }, false],
    ['an empty token is no token', {}, { SWARM_AGENT_TOKEN: '' }, false],
  ])('%s', (_name, opts, env, api) => {
    expect(usesAgentApi(opts, env)).toBe(api);
  });

  it('refuses an explicit --api-url with a bus flag, and an agent variable beside SWARM_NATS_URL', async () => {
    const both = await cliErrorOf(() => usesAgentApi({ apiUrl: 'http://h:1', dataDir: '/tmp/x', node: 1 }, {}));
    expect([both.code, both.message]).toEqual(['SWARM_BAD_ARGS', "--api-url acts as an agent over the HTTP API and --data-dir, --node name the node's bus: give one or the other"]);
    const env = await cliErrorOf(() => usesAgentApi({}, { SWARM_AGENT_TOKEN: TOKEN, SWARM_NATS_URL: 'nats://127.0.0.1:4333' }));
    expect(env.code).toBe('SWARM_BAD_ARGS');
    expect(env.message).toMatch(/^both SWARM_NATS_URL \(the node's bus\) and SWARM_AGENT_TOKEN .*pass --nats or --api-url/);
  });

  it('reads the token from the environment only, and says what is wrong with a bad one without echoing it', async () => {
    expect(agentToken({ SWARM_AGENT_TOKEN: TOKEN })).toBe(TOKEN);
    const missing = await cliErrorOf(() => agentToken({}));
    expect([missing.code, missing.message]).toEqual(['SWARM_BAD_ARGS', expect.stringMatching(/^set SWARM_AGENT_TOKEN to the agent's token .*never from a flag$/)]);
    const bad = await cliErrorOf(() => agentToken({ SWARM_AGENT_TOKEN: 'swt_secret-but-short' }));
    expect(bad.code).toBe('SWARM_BAD_ARGS');
    expect(bad.message).not.toContain('secret');
  });

  it('takes --api-url, then SWARM_API_URL, then the live node’s httpAddress, and refuses what is not an http(s) base URL', async () => {
    expect(await agentApiUrl({ apiUrl: '127.0.0.1:8080/' }, { SWARM_API_URL: 'http://other:1' })).toBe('http://127.0.0.1:8080');
    // Port 80 spelled out, and a proxy's path prefix, are fine.
    expect(await agentApiUrl({ apiUrl: '127.0.0.1:80' }, {})).toBe('http://127.0.0.1:80');
    expect(await agentApiUrl({ apiUrl: 'https://proxy.example/swarm' }, {})).toBe('https://proxy.example/swarm');
    expect(await agentApiUrl({}, { SWARM_API_URL: 'https://agents.example:8443' })).toBe('https://agents.example:8443');
    const home = await mkdtemp(join(tmpdir(), 'swarm-agent-mode-'));
    try {
      await writeFile(join(home, 'node.json'), JSON.stringify({ natsUrl: 'nats://127.0.0.1:1', pid: process.pid, httpAddress: '127.0.0.1:9999' }));
      expect(await agentApiUrl({}, { SWARM_HOME: home })).toBe('http://127.0.0.1:9999');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
    for (const [opts, env, source] of [
      [{ apiUrl: 'ftp://h:1' }, {}, '--api-url'],
      [{ apiUrl: 'http://user:pw@h:1' }, {}, '--api-url'],
      [{ apiUrl: 'http://h:1/?token=x' }, {}, '--api-url'],
      [{ apiUrl: 'http://' }, {}, '--api-url'],
      [{ apiUrl: 'notaurl' }, {}, '--api-url'],
      [{ apiUrl: 'http://127.0.0.1:8080/v1' }, {}, '--api-url'],
      [{}, { SWARM_API_URL: `http://h:1/${'x'.repeat(500)}#frag` }, 'SWARM_API_URL'],
    ] as const) {
      const err = await cliErrorOf(() => agentApiUrl(opts, env));
      expect([err.code, err.message.startsWith(`${source} must be the node's agent API`), err.message.length < 200]).toEqual(['SWARM_BAD_ARGS', true, true]);
    }
  });

  it('checks the token before anything is sent, and gives no client in bus mode', async () => {
    expect(await agentClientFor({}, {})).toBeUndefined();
    const err = await cliErrorOf(() => agentClientFor({ apiUrl: 'http://127.0.0.1:1' }, {}));
    expect(err.message).toMatch(/^set SWARM_AGENT_TOKEN/);
    expect((await agentClientFor({ apiUrl: 'http://127.0.0.1:1/' }, { SWARM_AGENT_TOKEN: TOKEN }))?.baseUrl).toBe('http://127.0.0.1:1');
  });
});
