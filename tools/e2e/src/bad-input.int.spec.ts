import { ALL_RPCS, ErrorCode, HEALTH_BY_SERVICE, SwarmErrorMessage } from '@swarm/contracts';
import { SWARM_ERROR_HEADER } from '@swarm/bus';
import type { Msg } from 'nats';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';

/** Field 1, wire type 2 (length-delimited): a string field in every request that has one. */
function stringField1(length: number): Uint8Array {
  const body = Buffer.alloc(length, 0x78);
  const len: number[] = [];
  for (let n = length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x0a, ...len]), body]);
}

function errorCode(reply: Msg): ErrorCode | undefined {
  return reply.headers?.has(SWARM_ERROR_HEADER) ? SwarmErrorMessage.decode(reply.data).code : undefined;
}

describe('node - bad input on every subject', () => {
  let node: InProcessNode;

  beforeAll(async () => {
    node = await startInProcessNode();
  }, 30_000);

  afterAll(() => node.stop());

  const everyServiceAnswersHealth = async () => {
    for (const rpc of Object.values(HEALTH_BY_SERVICE)) {
      const reply = await node.nc.request(rpc.subject, new Uint8Array(), { timeout: 5_000 });
      expect({ subject: rpc.subject, code: errorCode(reply) }).toEqual({ subject: rpc.subject, code: undefined });
    }
  };

  it.each(ALL_RPCS.map((rpc) => [rpc.subject]))('%s: malformed protobuf gets MALFORMED_MESSAGE', async (subject) => {
    const reply = await node.nc.request(subject, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), { timeout: 5_000 });
    expect(errorCode(reply)).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
  });

  it('answers a 4.5 MB string on every subject with a typed reply, and every service keeps serving', async () => {
    // 4.5 MB: an error quoting it in both header and body would exceed the 8 MiB bus limit.
    const payload = stringField1(4.5 * 1024 * 1024);
    for (const rpc of ALL_RPCS) {
      const reply = await node.nc.request(rpc.subject, payload, { timeout: 10_000 });
      const code = errorCode(reply);
      // Health and list requests have no field 1 and ignore it; everything else must refuse it.
      if (code === undefined) expect(() => rpc.response.decode(reply.data)).not.toThrow();
      else expect([ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, ErrorCode.ERROR_CODE_UNKNOWN_SKILL]).toContain(code);
      expect(reply.data.byteLength).toBeLessThan(64 * 1024);
    }
    await everyServiceAnswersHealth();
  });
});
