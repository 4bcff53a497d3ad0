/**
 * `swarm ledger` end to end over a real nats-server, with stand-ins for credit-svc (the ledger
 * replay and the node's chain pages) and gateway-svc (a peer's pages) that serve real chains built
 * with @swarm/chain: what the command asks, prints (table and a schema-valid JSON document) and how
 * it fails. The real node answering these subjects is tools/e2e's.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusService } from '@swarm/bus';
import { startBusService } from '@swarm/bus';
import { chainRules, countersignVoid, makeVoid, verifyForkProof } from '@swarm/chain';
import type { SignedVoid } from '@swarm/contracts';
import { AuditResponse, ChainBlocksResponse, CreditAudit, CreditChainBlocks, CreditPaidVoids, ErrorCode, GatewayFetchChain, SwarmError } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer } from '@swarm/testing';
import Ajv2020 from 'ajv/dist/2020';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { toCliError } from '../cli-error';
import { ledgerCommand } from './ledger';
import { TestNodes } from './test-fixtures/test-chains';

jest.setTimeout(60_000);

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../../docs/cli-json.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(SCHEMA);

/** Recent enough that no idle burn is due by the command's clock (the default rules). */
const AT = Date.now() - 3_600_000;
const UNKNOWN_PEER = 'ee'.repeat(32);

describe('swarm ledger - against stand-ins for credit-svc and gateway-svc on a real bus', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let services: BusService[];
  let home: string;
  let out: string;
  let swarm: TestNodes;
  let ownBlocks: Uint8Array[];
  let peerBlocks: Uint8Array[];
  let ledgerOk: boolean;
  /** The voids credit-svc answers, one page of 1 at a time (as a long list comes). */
  let paidVoids: SignedVoid[];
  /** How the stand-in pages them: as credit-svc does, going back, or not at all (a credit-svc from before voids). */
  let voidPaging: 'on' | 'back' | 'down';
  const asked: string[] = [];

  beforeAll(async () => {
    swarm = new TestNodes(chainRules(), AT);
    for (let i = 0; i < 25; i++) swarm.pay(i % 2, i % 2 === 0 ? 2n : 30n, `task-${i}`, AT + 1_000 * (i + 1));
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    const start = (name: string) => startBusService({ nc, log: silentLogger(), name, version: '0.0.0', description: 'stand-in', nodeId: swarm.nodes[0].signer.nodeId });
    const credit = await start('credit-svc');
    const gateway = await start('gateway-svc');
    services = [credit, gateway];
    credit.serve(CreditAudit, () => {
      asked.push('audit');
      return AuditResponse.fromPartial(ledgerOk ? { ok: true, entriesChecked: 9n, genesis: 1_000n } : { ok: false, problems: ['account node: stored 5, the log says 4'] });
    });
    credit.serve(CreditPaidVoids, (req) => {
      asked.push(`voids ${req.afterReceiptId.slice(0, 6)}`);
      if (voidPaging === 'down') throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no responders (test)', true);
      if (voidPaging === 'back' && req.afterReceiptId !== '') return { voids: [], nextAfterReceiptId: 'a' };
      const at = req.afterReceiptId === '' ? 0 : Number(req.afterReceiptId.slice(1)) + 1;
      const page = paidVoids.slice(at, at + 1);
      return { voids: page, nextAfterReceiptId: at + 1 < paidVoids.length ? `v${at}` : '' };
    });
    // Pages as credit-svc answers them: from the seq asked, at most `limit` (0 = 1,000).
    credit.serve(CreditChainBlocks, (req) => {
      asked.push(`chain ${req.fromSeq} ${req.limit}`);
      const from = Number(req.fromSeq) - 1;
      return ChainBlocksResponse.fromPartial({
        blocks: ownBlocks.slice(from, from + (req.limit || 1_000)),
        headSeq: BigInt(ownBlocks.length),
        nodeId: swarm.nodes[0].signer.nodeId,
      });
    });
    gateway.serve(GatewayFetchChain, (req) => {
      asked.push(`peer ${req.peerNodeId.slice(0, 4)} ${req.fromSeq}`);
      if (req.peerNodeId !== swarm.nodes[1].signer.nodeId) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `no address known for peer ${req.peerNodeId.slice(0, 12)}`);
      const from = Number(req.fromSeq) - 1;
      return ChainBlocksResponse.fromPartial({ blocks: peerBlocks.slice(from, from + (req.limit || 1_000)), headSeq: BigInt(peerBlocks.length), nodeId: req.peerNodeId });
    });
    await nc.flush();
  });

  afterAll(async () => {
    await Promise.all((services ?? []).map((s) => s.stop(1_000)));
    await nc?.drain();
    await server?.stop();
  });

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'swarm-ledger-'));
    ownBlocks = [...swarm.nodes[0].blocks];
    peerBlocks = [...swarm.nodes[1].blocks];
    ledgerOk = true;
    paidVoids = [];
    voidPaging = 'on';
    asked.length = 0;
    out = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await rm(home, { recursive: true, force: true });
  });

  const at = () => ({ nats: server.url, dataDir: home });

  function jsonDocument(def: 'ledger' | 'ledger-audit'): Record<string, unknown> {
    const doc = JSON.parse(out) as Record<string, unknown>;
    const validate = ajv.getSchema(`${SCHEMA.$id}#/$defs/${def}`);
    expect({ valid: validate?.(doc), errors: validate?.errors ?? null }).toEqual({ valid: true, errors: null });
    return doc;
  }

  async function failure(run: Promise<void>) {
    return toCliError(
      await run.then(
        () => new Error('expected the command to fail'),
        (e: unknown) => e,
      ),
    );
  }

  it("swarm ledger --json: the node's chain, audited from seq 1, one schema-valid document", async () => {
    await ledgerCommand({ ...at(), json: true });
    expect(asked).toEqual(['chain 1 1000']);
    const doc = jsonDocument('ledger');
    const own = swarm.nodes[0];
    expect(doc).toMatchObject({ nodeId: own.signer.nodeId, peer: false, ok: true, headSeq: '26', blocksChecked: '26', blocksOmitted: '6' });
    expect(doc['balances']).toEqual({ available: String(own.heads[25].balances.available), locked: '0', burned: '0', received: '360', paid: '26', pledged: '0' });
    expect((doc['blocks'] as unknown[]).length).toBe(20);
  });

  it('swarm ledger: the table of the chain and its last blocks', async () => {
    await ledgerCommand(at());
    const own = swarm.nodes[0];
    expect(out).toContain(own.signer.nodeId);
    expect(out).toMatch(/result\s+│ ok: every signature/);
    expect(out).toMatch(/blocks\s+│ 26 audited \(head seq 26\)/);
    expect(out).toMatch(/received\s+│ 360/);
    expect(out).toContain('last 20 blocks (6 earlier not listed):');
    expect(out).toMatch(new RegExp(`26\\s+│ RECEIPT_OUT\\s+│ 2\\s+│ ${swarm.nodes[1].signer.nodeId.slice(0, 12)}…\\s+│ task-24`));
  });

  it('swarm ledger --audit --json: the ledger replay and the chain audit in one document; exit 1 when either fails', async () => {
    await ledgerCommand({ ...at(), audit: true, json: true });
    expect(asked).toEqual(['audit', 'chain 1 1000']);
    expect(jsonDocument('ledger-audit')).toMatchObject({ ok: true, entriesChecked: '9', chain: { ok: true, headSeq: '26' } });

    out = '';
    ledgerOk = false;
    const ledgerFails = await failure(ledgerCommand({ ...at(), audit: true, json: true }));
    expect(ledgerFails).toMatchObject({ code: 'SWARM_AUDIT_FAILED', message: 'the ledger audit found a problem: account node: stored 5, the log says 4' });
    expect(jsonDocument('ledger-audit')).toMatchObject({ ok: false, chain: { ok: true } });

    out = '';
    ledgerOk = true;
    ownBlocks.splice(9, 1);
    const chainFails = await failure(ledgerCommand({ ...at(), audit: true, json: true }));
    expect(chainFails).toMatchObject({ code: 'SWARM_AUDIT_FAILED', message: "the node's chain was refused at block 11 (gap): seq 11 follows seq 9" });
    expect(jsonDocument('ledger-audit')).toMatchObject({ ok: true, chain: { ok: false, refusal: { reason: 'gap', seq: '11' } } });
  });

  it("swarm ledger --peer: the peer's chain through the gateway; a fork's proof is kept in <data-dir>/chain-evidence", async () => {
    const peer = swarm.nodes[1].signer.nodeId;
    await ledgerCommand({ ...at(), peer, json: true });
    expect(asked).toEqual(['voids ', `peer ${peer.slice(0, 4)} 1`]);
    expect(jsonDocument('ledger')).toMatchObject({ nodeId: peer, peer: true, ok: true, headSeq: '26', voidBreaches: [] });

    out = '';
    peerBlocks.splice(5, 0, swarm.otherBlock(1, 5, AT + 10_000));
    const forked = await failure(ledgerCommand({ ...at(), peer }));
    const file = join(home, 'chain-evidence', `${peer}-5.forkproof`);
    expect(forked).toMatchObject({ code: 'SWARM_AUDIT_FAILED', message: `the chain of ${peer} forked: two different blocks with seq 5; the proof is kept in ${file}` });
    expect(out).toMatch(/result\s+│ FORKED: the node signed two different blocks with seq 5/);
    expect(await readdir(join(home, 'chain-evidence'))).toEqual([`${peer}-5.forkproof`]);
    expect(verifyForkProof(new Uint8Array(await readFile(file)))).toEqual({ nodeId: peer, seq: 5n });
  });

  it("swarm ledger --peer: a receipt the peer voided at this node's request and holds in its chain anyway is a failed audit", async () => {
    const [own, peer] = swarm.nodes;
    const voidOf = (taskId: string, amount: bigint, atMs: number) =>
      countersignVoid(makeVoid({ ...swarm.receipt(0, amount, taskId, atMs), payeeSignature: new Uint8Array(0) }, own.signer), peer.signer);
    // task-0 is in both chains (paid); a void of it countersigned by the peer too breaks its word. A
    // void of a receipt that is in no chain is a void kept. Both come in pages, after others.
    paidVoids = [voidOf('never-paid', 3n, AT + 500), voidOf('task-0', 2n, AT + 1_000)];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const broken = await failure(ledgerCommand({ ...at(), peer: peer.signer.nodeId, json: true }));
    // No router here to prove it to (ledger-router.int.spec.ts has one): said beside the JSON.
    const said = stderr.mock.calls.map(([c]) => String(c)).join('');
    expect(said).toMatch(/^warning: the node's router could not be told of the broken void/m);
    // Nor a credit-svc that pays after all: said, and the audit fails as it would anyway.
    expect(said).toMatch(/^warning: this node's credit-svc could not pay 1 voided receipt after all \(the first, task-0:.+\)\. Run this audit again/m);
    expect(asked.slice(0, 2)).toEqual(['voids ', 'voids v0']);
    expect(broken).toMatchObject({
      code: 'SWARM_AUDIT_FAILED',
      message: expect.stringMatching(/holds 1 receipt it voided at this node's request .* the first task-0:.* at block 2$/),
    });
    expect(jsonDocument('ledger')).toMatchObject({ ok: true, voidBreaches: [{ receiptId: `task-0:${own.signer.nodeId}:${peer.signer.nodeId}`, seq: '2', amount: '2' }] });
    out = '';
    await failure(ledgerCommand({ ...at(), peer: peer.signer.nodeId }));
    expect(out).toMatch(/voids\s+│ BROKEN: 1 receipt it voided at this node's request is in its chain \(2 credits\)/);
  });

  it('swarm ledger --peer: a refused chain is checked as far as it passed; voids paged backwards are an error; voids unread are said', async () => {
    const [own, peer] = swarm.nodes;
    const voidOf = (taskId: string, amount: bigint, atMs: number) =>
      countersignVoid(makeVoid({ ...swarm.receipt(0, amount, taskId, atMs), payeeSignature: new Uint8Array(0) }, own.signer), peer.signer);
    // A refused chain: checked only as far as its pages passed, and said so.
    paidVoids = [voidOf('task-0', 2n, AT + 1_000)];
    peerBlocks.splice(9, 1);
    await failure(ledgerCommand({ ...at(), peer: peer.signer.nodeId }));
    expect(out).toMatch(/voids\s+│ none of this node's voids of receipts to it is in its chain \(of the blocks audited\)/);

    out = '';
    peerBlocks = [...swarm.nodes[1].blocks];
    paidVoids = [voidOf('never-paid', 3n, AT + 500), voidOf('task-0', 2n, AT + 1_000)];
    voidPaging = 'back';
    expect(await failure(ledgerCommand({ ...at(), peer: peer.signer.nodeId }))).toMatchObject({
      code: 'SWARM_INTERNAL',
      message: expect.stringMatching(/went back instead of on/),
    });

    out = '';
    voidPaging = 'down';
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await ledgerCommand({ ...at(), peer: peer.signer.nodeId, json: true });
    expect(jsonDocument('ledger')).toMatchObject({ ok: true });
    expect(jsonDocument('ledger')['voidBreaches']).toBeUndefined();
    expect(stderr.mock.calls.map(([c]) => String(c)).join('')).toMatch(
      /^note: this node's voids could not be read \(no responders \(test\)\), so the peer's chain was not checked against them/m,
    );
  });

  it("passes on the gateway's error for a peer it cannot reach, and SWARM_NO_NODE when no node answers", async () => {
    expect(await failure(ledgerCommand({ ...at(), peer: UNKNOWN_PEER }))).toMatchObject({ code: 'SWARM_UNAVAILABLE', message: 'no address known for peer eeeeeeeeeeee' });
    expect(await failure(ledgerCommand({ nats: 'nats://127.0.0.1:1', dataDir: home }))).toMatchObject({ code: 'SWARM_NO_NODE' });
  });
});
