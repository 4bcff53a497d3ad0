import { ErrorCode } from '@swarm/contracts';
import { dhtEndpoint, dhtIdOfNode, peerOfDhtEndpoint } from './dht-peer-id';

const NODE_ID = '0123456789abcdef'.repeat(4);

describe('dht peer id - node ids to DHT ids and endpoints', () => {
  it('takes the first 20 bytes of the node id as the DHT id', () => {
    expect(dhtIdOfNode(NODE_ID)).toBe(NODE_ID.slice(0, 40));
  });

  it('refuses what is not a node id', () => {
    for (const bad of ['', NODE_ID.slice(0, 40), NODE_ID.toUpperCase(), `${NODE_ID}0`])
      expect(() => dhtIdOfNode(bad)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
  });

  it('writes and reads endpoints as peer addresses, IPv6 included', () => {
    expect(dhtEndpoint(NODE_ID, { host: '127.0.0.1', port: 4001 })).toBe(`${NODE_ID}@127.0.0.1:4001`);
    expect(peerOfDhtEndpoint(dhtEndpoint(NODE_ID, { host: '::1', port: 4001 }))).toEqual({ nodeId: NODE_ID, address: { host: '::1', port: 4001 } });
    for (const bad of ['127.0.0.1:4001', `${NODE_ID}@127.0.0.1:0`, `${NODE_ID}@`, 'somewhere:1'])
      expect(() => peerOfDhtEndpoint(bad)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
  });
});
