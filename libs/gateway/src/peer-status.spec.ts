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
});
