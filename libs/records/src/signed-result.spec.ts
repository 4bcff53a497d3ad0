import type { ExecuteRequest, ExecuteResponse, SignedExecuteResponse } from '@swarm/contracts';
import { ErrorCode, ExecuteResponse as ExecuteResponseCodec, SwarmError, toTensor } from '@swarm/contracts';
import fc from 'fast-check';
import type { ResultCheck, ResultRefusalReason } from './index';
import { encodeTask, openSignedResult, ResultRefusal, resultSigningBytes, RESULT_DOMAIN, signResult, verifySignedResult } from './index';
import { seededSigner } from './test-fixtures/seeded-signer';

/** A serve ticket beside each signed result (its content is the provider's business; the length is checked). */
const SERVE_TICKET = new Uint8Array(32).fill(7);

const provider = seededSigner(1);
const mallory = seededSigner(2);

function task(taskId = 'task-1', values: number[] = [1, 2, 3]): ExecuteRequest {
  return {
    taskId,
    skill: 'vecadd',
    inputs: [toTensor('a', [values.length], Float32Array.from(values)), toTensor('b', [values.length], Float32Array.from(values))],
    timeoutMs: 5_000,
  };
}

function answer(taskId = 'task-1', values: number[] = [2, 4, 6]): ExecuteResponse {
  return { taskId, outputs: [toTensor('c', [values.length], Float32Array.from(values))], executorId: 'exec-1', providerId: provider.nodeId, backend: 'cpu', executeMs: 1.5 };
}

function reasonOf(check: ResultCheck): ResultRefusalReason | 'accepted' {
  return check.ok ? 'accepted' : check.refusal.reason;
}

describe('records - signed results', () => {
  const request = encodeTask(task());
  const signed = signResult(request, answer(), provider, SERVE_TICKET);

  it('accepts the provider’s own answer to this request and returns the decoded response', () => {
    expect(verifySignedResult(signed, provider.nodeId, request)).toEqual({ ok: true, response: answer() });
    expect(openSignedResult(signed, provider.nodeId, request)).toEqual(answer());
    expect(signed.publicKey).toEqual(provider.publicKey);
  });

  it('signs the domain tag, the request digest and the exact response bytes', () => {
    const bytes = resultSigningBytes(request, signed.response);
    expect(Buffer.from(bytes.subarray(0, RESULT_DOMAIN.length)).toString('utf8')).toBe('swarm-result-v1');
    expect(bytes.length).toBe(RESULT_DOMAIN.length + 32 + signed.response.length);
    expect(provider.sign(bytes)).toEqual(signed.signature);
  });

  it('refuses a tampered response, even one re-encoded with a better-looking output', () => {
    const altered = ExecuteResponseCodec.encode({ ...answer(), outputs: [toTensor('c', [3], Float32Array.from([2, 4, 7]))] }).finish();
    expect(reasonOf(verifySignedResult({ ...signed, response: altered }, provider.nodeId, request))).toBe('bad-signature');
  });

  it('refuses a result signed by another key: as the wrong key, or as a bad signature under the expected key', () => {
    const byMallory = signResult(request, answer(), mallory, SERVE_TICKET);
    expect(reasonOf(verifySignedResult(byMallory, provider.nodeId, request))).toBe('wrong-key');
    const borrowedKey: SignedExecuteResponse = { ...byMallory, publicKey: provider.publicKey };
    expect(reasonOf(verifySignedResult(borrowedKey, provider.nodeId, request))).toBe('bad-signature');
  });

  it('refuses a genuine result without a 32-byte serve ticket beside it (its receipt could never be countersigned)', () => {
    for (const serveTicket of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33)]) {
      expect(reasonOf(verifySignedResult({ ...signed, serveTicket }, provider.nodeId, request))).toBe('no-ticket');
    }
    expect(reasonOf(verifySignedResult(signResult(request, answer(), provider), provider.nodeId, request))).toBe('no-ticket');
  });

  it('refuses a replay of a genuine result as the answer to another request', () => {
    const other = encodeTask(task('task-2', [5, 5, 5]));
    expect(reasonOf(verifySignedResult(signed, provider.nodeId, other))).toBe('bad-signature');
    // Same task id, other inputs: still another request.
    expect(reasonOf(verifySignedResult(signed, provider.nodeId, encodeTask(task('task-1', [9, 9, 9]))))).toBe('bad-signature');
  });

  it('refuses a signed answer that names another task, and signed bytes that are no ExecuteResponse', () => {
    expect(reasonOf(verifySignedResult(signResult(request, answer('task-9'), provider, SERVE_TICKET), provider.nodeId, request))).toBe('task-mismatch');
    const garbage = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const signedGarbage = { response: garbage, signature: provider.sign(resultSigningBytes(request, garbage)), publicKey: provider.publicKey, serveTicket: SERVE_TICKET };
    expect(reasonOf(verifySignedResult(signedGarbage, provider.nodeId, request))).toBe('malformed');
  });

  it('refuses, undecoded, a signed answer of more outputs than a task may have (a million empty ones would take ~100 MB to decode)', () => {
    const flood = Buffer.concat([ExecuteResponseCodec.encode(answer()).finish(), Buffer.alloc(1_000_000 * 2, Buffer.from([0x12, 0]))]);
    const signedFlood = { response: flood, signature: provider.sign(resultSigningBytes(request, flood)), publicKey: provider.publicKey, serveTicket: SERVE_TICKET };
    const check = verifySignedResult(signedFlood, provider.nodeId, request);
    expect(reasonOf(check)).toBe('malformed');
    expect(check.ok ? '' : check.refusal.message).toMatch(/not an ExecuteResponse a task may have/);
  });

  it('refuses keys and signatures of the wrong length without trying them', () => {
    expect(reasonOf(verifySignedResult({ ...signed, publicKey: provider.publicKey.subarray(1) }, provider.nodeId, request))).toBe('wrong-key');
    expect(reasonOf(verifySignedResult({ ...signed, publicKey: new Uint8Array() }, provider.nodeId, request))).toBe('wrong-key');
    expect(reasonOf(verifySignedResult({ ...signed, signature: signed.signature.subarray(1) }, provider.nodeId, request))).toBe('bad-signature');
    expect(reasonOf(verifySignedResult({ ...signed, signature: new Uint8Array() }, provider.nodeId, request))).toBe('bad-signature');
  });

  it('refuses with a retryable VERIFICATION_FAILED whose message names the rule and stays short', () => {
    const check = verifySignedResult(signResult(request, answer('x'.repeat(100_000)), provider, SERVE_TICKET), provider.nodeId, request);
    if (check.ok) throw new Error('expected a refusal');
    expect(check.refusal).toBeInstanceOf(SwarmError);
    expect(check.refusal).toBeInstanceOf(ResultRefusal);
    expect(check.refusal).toMatchObject({ code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED, retryable: true, reason: 'task-mismatch' });
    expect(check.refusal.message).toContain('(task-mismatch)');
    expect(check.refusal.message.length).toBeLessThan(300);
    expect(() => openSignedResult(signed, mallory.nodeId, request)).toThrow(ResultRefusal);
  });

  it('throws INVALID_ARGUMENT for request bytes that are no ExecuteRequest (the caller’s own mistake)', () => {
    expect(() => verifySignedResult(signed, provider.nodeId, Uint8Array.from([0x0a, 0xff]))).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
  });
});

describe('records - signed result properties', () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const values = fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 8 });
  const taskId = fc.stringMatching(/^[a-z0-9-]{1,40}$/);

  it('round trip: any provider’s answer to any request verifies under that provider’s id', () => {
    fc.assert(
      fc.property(seed, taskId, values, values, (keySeed, id, inputs, outputs) => {
        const signer = seededSigner(keySeed);
        const request = encodeTask(task(id, inputs));
        const response = { ...answer(id, outputs), providerId: signer.nodeId };
        const check = verifySignedResult(signResult(request, response, signer, SERVE_TICKET), signer.nodeId, request);
        expect(check.ok && ExecuteResponseCodec.encode(check.response).finish()).toEqual(ExecuteResponseCodec.encode(response).finish());
      }),
      { numRuns: 50 },
    );
  });

  it('refuses any single-byte change in the response, the signature or the public key', () => {
    const request = encodeTask(task());
    const signed = signResult(request, answer(), provider, SERVE_TICKET);
    const fields = ['response', 'signature', 'publicKey'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(), fc.integer({ min: 1, max: 255 }), (field, at, mask) => {
        const bytes = Uint8Array.from(signed[field]);
        bytes[at % bytes.length] ^= mask;
        expect(verifySignedResult({ ...signed, [field]: bytes }, provider.nodeId, request).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a genuine result presented for any other request', () => {
    fc.assert(
      fc.property(taskId, values, taskId, values, (idA, inA, idB, inB) => {
        const a = encodeTask(task(idA, inA));
        const b = encodeTask(task(idB, inB));
        fc.pre(Buffer.compare(a, b) !== 0);
        const signed = signResult(a, answer(idA), provider, SERVE_TICKET);
        expect(reasonOf(verifySignedResult(signed, provider.nodeId, b))).toBe('bad-signature');
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a result signed by any other key, whatever key it carries', () => {
    fc.assert(
      fc.property(seed, (forgerSeed) => {
        const forger = seededSigner(forgerSeed);
        fc.pre(forger.nodeId !== provider.nodeId);
        const request = encodeTask(task());
        const forged = signResult(request, answer(), forger, SERVE_TICKET);
        expect(reasonOf(verifySignedResult(forged, provider.nodeId, request))).toBe('wrong-key');
        expect(reasonOf(verifySignedResult({ ...forged, publicKey: provider.publicKey }, provider.nodeId, request))).toBe('bad-signature');
      }),
      { numRuns: 50 },
    );
  });
});
