import { formatHostPort, parseHostPort, parsePeerAddress } from './peer-address';

const ID = 'ab'.repeat(32);

describe('peer address - parsing', () => {
  it.each([
    ['127.0.0.1:7700', { host: '127.0.0.1', port: 7700 }],
    ['node-1.example.org:0', { host: 'node-1.example.org', port: 0 }],
    ['[::1]:443', { host: '::1', port: 443 }],
  ])('reads %s', (text, want) => {
    expect(parseHostPort(text)).toEqual(want);
    expect(formatHostPort(want)).toBe(text);
  });

  it.each(['127.0.0.1', ':80', 'host:65536', 'host:-1', '::1:80', 'a b:1', 'host:80/x', '', 'host:00080', `[${':'.repeat(46)}]:1`, '[]:1'])('refuses %j', (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });

  it('reads <node id>@host:port and refuses ids that are not 64 hex digits or a port 0', () => {
    expect(parsePeerAddress(`${ID}@10.0.0.2:7700`)).toEqual({ nodeId: ID, address: { host: '10.0.0.2', port: 7700 } });
    expect(parsePeerAddress(`${ID.toUpperCase()}@10.0.0.2:7700`)).toBeUndefined();
    expect(parsePeerAddress(`${ID.slice(1)}@10.0.0.2:7700`)).toBeUndefined();
    expect(parsePeerAddress(`${ID}@10.0.0.2:0`)).toBeUndefined();
    expect(parsePeerAddress('10.0.0.2:7700')).toBeUndefined();
  });
});
