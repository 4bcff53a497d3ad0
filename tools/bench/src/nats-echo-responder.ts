/**
 * The raw NATS floor's responder, run as its own process so the floor crosses a process boundary
 * as every hop of the node does: `node nats-echo-responder.js <nats url> <subject>`. Answers each
 * request with its own payload; prints `ready` once subscribed; exits on SIGTERM or SIGINT.
 */
import { connect } from 'nats';

async function main(): Promise<void> {
  const [url, subject] = process.argv.slice(2);
  if (!url || !subject) throw new Error('usage: nats-echo-responder <nats url> <subject>');
  const nc = await connect({ servers: url, name: 'bench-echo-responder' });
  nc.subscribe(subject, { callback: (_err, msg) => msg.respond(msg.data) });
  await nc.flush();
  process.stdout.write('ready\n');
  const stop = () => void nc.drain().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`nats-echo-responder: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
