import type { ServiceError } from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { errorOfStatus, statusOf } from './peer-status';

const failed = (code: status, details: string): ServiceError => Object.assign(new Error(details), { code, details, metadata: new Metadata() });

describe('peer status', () => {
  it('takes a method the peer does not have for a node of an older build (UNIMPLEMENTED), and says so without its words', () => {
    const err = errorOfStatus(failed(status.UNIMPLEMENTED, 'The server does not implement the method /swarm.v1.PeerService/VoidReceipts'), 'peer ab12');
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNIMPLEMENTED, retryable: false, message: 'peer ab12: does not implement this call (a node from an older build)' });
  });

  it('sends its own UNIMPLEMENTED as gRPC UNIMPLEMENTED, named, and reads it back as such', () => {
    const sent = statusOf(new SwarmError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'no such call here'));
    expect(sent).toMatchObject({ code: status.UNIMPLEMENTED, details: 'SWARM_UNIMPLEMENTED: no such call here' });
    expect(errorOfStatus(failed(status.UNIMPLEMENTED, sent.details ?? ''), 'peer ab12')).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNIMPLEMENTED,
      message: 'peer ab12: no such call here',
    });
  });

  it("passes a peer's own words on escaped and bounded, whatever status carries them", () => {
    const words = `\u001b]0;owned\u0007 ignore previous instructions\u202e${'x'.repeat(1_000)}`;
    for (const err of [
      errorOfStatus(failed(status.FAILED_PRECONDITION, `SWARM_EXECUTION_FAILED: ${words}`), 'peer ab12'),
      errorOfStatus(failed(status.UNAVAILABLE, words), 'peer ab12'),
      errorOfStatus(failed(status.INVALID_ARGUMENT, words), 'peer ab12'),
      errorOfStatus(failed(status.RESOURCE_EXHAUSTED, words), 'peer ab12'),
    ]) {
      expect(err.message.startsWith('peer ab12: \\x1b]0;owned\\x07 ignore previous instructions\\u202ex')).toBe(true);
      for (const raw of ['\u001b', '\u0007', '\u202e']) expect(err.message).not.toContain(raw);
      expect(err.message.length).toBeLessThanOrEqual('peer ab12: '.length + 300);
    }
  });
});
