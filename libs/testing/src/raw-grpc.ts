/**
 * A gRPC client that is not grpc-js: hand-built length-prefixed frames over node:http2, for tests
 * that send a gateway what the project's own stack never would (malformed bytes, lying lengths).
 */
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

/** A gRPC length-prefixed message: compressed flag (0), 4-byte big-endian length, then `body`. */
export function grpcFrame(body: Uint8Array, opts: { declaredLength?: number } = {}): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(opts.declaredLength ?? body.length, 1);
  return Buffer.concat([head, body]);
}

/** One raw POST (with `extraHeaders`, gRPC metadata a caller may send); resolves with the grpc-status and grpc-message the server ended it with. */
export function rawGrpcCall(session: ClientHttp2Session, path: string, body: Buffer, extraHeaders: OutgoingHttpHeaders = {}): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ...extraHeaders, ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: IncomingHttpHeaders = {};
    const collect = (h: IncomingHttpHeaders) => {
      headers = { ...headers, ...h };
    };
    req.on('response', collect);
    req.on('trailers', collect);
    req.on('data', () => undefined);
    req.on('end', () => resolve({ status: String(headers['grpc-status']), message: decodeURIComponent(String(headers['grpc-message'] ?? '')) }));
    req.on('error', reject);
    req.end(body);
  });
}
