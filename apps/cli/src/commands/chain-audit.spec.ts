/**
 * The chain audit of `swarm ledger`, over chains of two nodes built with @swarm/chain and served
 * page by page by a stand-in fetch: the report, its table and its JSON document (checked against
 * docs/cli-json.schema.json), the failure it becomes, and a fork's proof kept on a real disk.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChainPage, FetchChainPage } from '@swarm/chain';
import { chainRules, verifyForkProof } from '@swarm/chain';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import Ajv2020 from 'ajv/dist/2020';
import { toCliError } from '../cli-error';
import { toJson } from '../output';
import type { ChainReport } from './chain-audit';
import { auditChain, chainBlockGrid, chainFailure, chainReportJson, chainSummaryRows, RECENT_BLOCKS } from './chain-audit';
import { chainRulesOfEnv } from './ledger';
import { TestNodes, withForgedSignature } from './test-fixtures/test-chains';

const AT = Date.UTC(2025, 0, 1, 10);
const DAY = 86_400_000;
/** No idle drain unless a test says so. */
const RULES = chainRules({ drainPpm: 0 });

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../../docs/cli-json.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(SCHEMA);

/** The report as printed with --json, parsed back, and whether it fits `$defs/ledger`. */
function documentOf(report: ChainReport): { doc: Record<string, unknown>; errors: unknown } {
  const doc = JSON.parse(toJson(chainReportJson(report))) as Record<string, unknown>;
  const validate = ajv.getSchema(`${SCHEMA.$id}#/$defs/ledger`);
  if (!validate) throw new Error('no $defs/ledger');
  return { doc, errors: validate(doc) ? null : validate.errors };
}

/** Pages of `blocks` as credit-svc answers them; records what was asked. */
function servedBy(blocks: readonly Uint8Array[], nodeId: string, calls: bigint[] = []): FetchChainPage {
  return async (fromSeq, limit) => {
    calls.push(fromSeq);
    const from = Number(fromSeq) - 1;
    return { blocks: blocks.slice(from, from + limit), headSeq: BigInt(blocks.length), nodeId };
  };
}

function scripted(pages: ChainPage[]): FetchChainPage {
  let i = 0;
  return async () => pages[Math.min(i++, pages.length - 1)];
}

/** Node 0 receives from node 1 and pays it back, `payments` times in all. */
function history(payments: number, rules = RULES): TestNodes {
  const swarm = new TestNodes(rules, AT);
  for (let i = 0; i < payments; i++) swarm.pay(i % 2 === 0 ? 1 : 0, i % 2 === 0 ? 40n : 3n, `task-${i}`, AT + 60_000 * (i + 1));
  return swarm;
}

describe('swarm ledger - the chain audit', () => {
  let home: string;
  let evidence: string;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'swarm-chain-audit-'));
    evidence = join(home, 'chain-evidence');
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('reports a sound chain: balances derived from it, its last blocks, no burns owed; fits the schema', async () => {
    const swarm = history(3);
    const [a, b] = swarm.nodes;
    const report = await auditChain({ fetchPage: servedBy(a.blocks, a.signer.nodeId), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence });
    expect(report).toMatchObject({ nodeId: a.signer.nodeId, peer: false, ok: true, headSeq: 4n, reportedHeadSeq: 4n, blocksChecked: 4n, blocksOmitted: 0n });
    // 100 starter + 900 unlocked by the first receipt in + 40 + 40, less 3 paid.
    expect(report.balances).toEqual({ available: 1_077n, locked: 0n, burned: 0n, received: 80n, paid: 3n, pledged: 0n });
    expect(report.owed).toEqual({ count: 0, amount: 0n, balances: report.balances });
    expect(report.blocks).toEqual([
      { seq: 1n, kind: 'BLOCK_KIND_GENESIS', amount: 1_000n, counterparty: '', taskId: '', atMs: BigInt(AT) },
      { seq: 2n, kind: 'BLOCK_KIND_RECEIPT_IN', amount: 40n, counterparty: b.signer.nodeId, taskId: 'task-0', atMs: BigInt(AT + 60_000) },
      { seq: 3n, kind: 'BLOCK_KIND_RECEIPT_OUT', amount: 3n, counterparty: b.signer.nodeId, taskId: 'task-1', atMs: BigInt(AT + 120_000) },
      { seq: 4n, kind: 'BLOCK_KIND_RECEIPT_IN', amount: 40n, counterparty: b.signer.nodeId, taskId: 'task-2', atMs: BigInt(AT + 180_000) },
    ]);
    expect(chainFailure(report)).toBeUndefined();
    expect(chainSummaryRows(report)).toEqual([
      ['node', `${a.signer.nodeId} (this node)`],
      ['result', 'ok: every signature, countersignature, hash link and balance, the genesis lock and the idle burns check out'],
      ['blocks', '4 audited (head seq 4)'],
      ['available', '1077'],
      ['locked', '0'],
      ['burned', '0'],
      ['received', '80'],
      ['paid', '3'],
      ['pledged', '0'],
      ['owed burns', 'none by now'],
    ]);
    expect(chainBlockGrid(report).rows[2]).toEqual(['3', 'RECEIPT_OUT', '3', `${b.signer.nodeId.slice(0, 12)}…`, 'task-1', '2025-01-01 10:02:00Z']);
    // A task id longer than the column is kept whole, over lines, so `swarm task <id>` takes it as printed.
    const longId = `${'t'.repeat(64)}:${'9'.repeat(30)}`;
    const grid = chainBlockGrid({ ...report, blocks: [{ ...report.blocks[0], taskId: longId }] });
    expect(grid.rows[0][4]).toBe(`${'t'.repeat(64)}\n:${'9'.repeat(30)}`);
    // A router-made id (task-<uuid>) on one line.
    const uuidId = 'task-774d4b96-e2ba-4439-9963-ee7b015ddc8c';
    expect(chainBlockGrid({ ...report, blocks: [{ ...report.blocks[0], taskId: uuidId }] }).rows[0][4]).toBe(uuidId);
    const { doc, errors } = documentOf(report);
    expect(errors).toBeNull();
    expect(doc).toMatchObject({ headSeq: '4', balances: { available: '1077', paid: '3' }, owed: { count: 0, amount: '0' } });
    expect(doc['refusal']).toBeUndefined();
  });

  it('pages through a long chain from seq 1 and lists only the last blocks', async () => {
    const swarm = history(30);
    const [a] = swarm.nodes;
    const calls: bigint[] = [];
    const report = await auditChain({ fetchPage: servedBy(a.blocks, a.signer.nodeId, calls), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence, pageLimit: 7 });
    expect(calls).toEqual([1n, 8n, 15n, 22n, 29n]);
    expect({ ok: report.ok, headSeq: report.headSeq, listed: report.blocks.length, omitted: report.blocksOmitted }).toEqual({
      ok: true,
      headSeq: 31n,
      listed: RECENT_BLOCKS,
      omitted: 11n,
    });
    expect(report.blocks[0].seq).toBe(12n);
    expect(report.blocks[RECENT_BLOCKS - 1].seq).toBe(31n);
    expect(documentOf(report).errors).toBeNull();
  });

  it("audits a peer's chain as that peer's: another node's blocks are refused", async () => {
    const [a, b] = history(1).nodes;
    const report = await auditChain({ fetchPage: servedBy(a.blocks, a.signer.nodeId), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence, peer: b.signer.nodeId });
    expect(report).toMatchObject({ nodeId: b.signer.nodeId, peer: true, ok: false, refusal: { reason: 'wrong-node', seq: 1n } });
    expect(chainFailure(report)?.message).toMatch(new RegExp(`^the chain of ${b.signer.nodeId} was refused at block 1 \\(wrong-node\\): `));
  });

  it('refuses a missing block, naming the block; the failure is SWARM_AUDIT_FAILED with reason and seq', async () => {
    const [a] = history(4).nodes;
    // Block 3 left out: the second page starts at block 4.
    const blocks = [...a.blocks.slice(0, 2), ...a.blocks.slice(3)];
    const report = await auditChain({ fetchPage: servedBy(blocks, a.signer.nodeId), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence, pageLimit: 2 });
    expect(report).toMatchObject({ ok: false, headSeq: 0n, reportedHeadSeq: 4n, blocks: [], refusal: { reason: 'gap', seq: 4n, forkProofFile: '' } });
    expect(report.balances).toBeUndefined();
    const failure = chainFailure(report);
    expect({ code: failure?.code, message: failure?.message }).toEqual({
      code: 'SWARM_AUDIT_FAILED',
      message: "the node's chain was refused at block 4 (gap): seq 4 follows seq 2",
    });
    expect(chainSummaryRows(report)[1]).toEqual(['result', 'REFUSED at block 4 (gap): seq 4 follows seq 2']);
    const { doc, errors } = documentOf(report);
    expect(errors).toBeNull();
    expect(doc).toMatchObject({ ok: false, refusal: { reason: 'gap', seq: '4', message: 'seq 4 follows seq 2', forkProofFile: '' } });
  });

  it("proves a broken hash link a fork (the node's next block names another block than the one it showed) and keeps the proof", async () => {
    const swarm = history(4);
    const [a] = swarm.nodes;
    // Block 3 of another history, then the chain's own block 4, which links to the real block 3:
    // the node signed two blocks 3, one shown, one named.
    const blocks = [...a.blocks.slice(0, 2), swarm.otherBlock(0, 3, AT + 120_000), ...a.blocks.slice(3)];
    for (const pageLimit of [2, 3]) {
      const evidenceDir = join(evidence, `pages-of-${pageLimit}`);
      const report = await auditChain({ fetchPage: servedBy(blocks, a.signer.nodeId), rules: RULES, nowMs: AT + DAY, evidenceDir, pageLimit, peer: a.signer.nodeId });
      const file = join(evidenceDir, `${a.signer.nodeId}-3.forkproof`);
      expect(report.refusal).toEqual({
        reason: 'fork',
        seq: 3n,
        message: `node ${a.signer.nodeId.slice(0, 12)} signed block 4 going on from another block 3 than the one it signed`,
        forkProofFile: file,
      });
      expect(verifyForkProof(new Uint8Array(await readFile(file)))).toEqual({ nodeId: a.signer.nodeId, seq: 3n });
      expect(chainFailure(report)?.message).toBe(`the chain of ${a.signer.nodeId} forked: two different blocks with seq 3; the proof is kept in ${file}`);
    }
  });

  it('refuses a forged signature', async () => {
    const [a] = history(2).nodes;
    const blocks = [...a.blocks];
    blocks[2] = withForgedSignature(blocks[2]);
    const report = await auditChain({ fetchPage: servedBy(blocks, a.signer.nodeId), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence });
    expect(report.refusal).toMatchObject({ reason: 'bad-signature', seq: 3n });
    expect(chainFailure(report)?.code).toBe('SWARM_AUDIT_FAILED');
  });

  it('finds a fork, keeps its proof in <data-dir>/chain-evidence/<node id>-<seq>.forkproof, and never overwrites a different file', async () => {
    const swarm = history(3);
    const [a] = swarm.nodes;
    const other = swarm.otherBlock(0, 3, AT + 120_000);
    // The node shows block 3 twice: its own, then another it signed, at the start of the next page.
    const pages = (): FetchChainPage =>
      scripted([
        { blocks: a.blocks.slice(0, 3), headSeq: 4n, nodeId: a.signer.nodeId },
        { blocks: [other, a.blocks[3]], headSeq: 4n, nodeId: a.signer.nodeId },
      ]);
    const report = await auditChain({ fetchPage: pages(), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence, peer: a.signer.nodeId });
    const file = join(evidence, `${a.signer.nodeId}-3.forkproof`);
    expect(report.refusal).toEqual({ reason: 'fork', seq: 3n, message: `node ${a.signer.nodeId.slice(0, 12)} signed two different blocks with seq 3`, forkProofFile: file });
    expect(verifyForkProof(new Uint8Array(await readFile(file)))).toEqual({ nodeId: a.signer.nodeId, seq: 3n });
    expect(chainFailure(report)?.message).toBe(`the chain of ${a.signer.nodeId} forked: two different blocks with seq 3; the proof is kept in ${file}`);
    expect(chainSummaryRows(report).slice(1, 3)).toEqual([
      ['result', 'FORKED: the node signed two different blocks with seq 3'],
      ['fork proof', `kept in ${file}`],
    ]);
    expect(documentOf(report).errors).toBeNull();

    // The same fork again: the same proof, already kept; nothing new is written.
    const again = await auditChain({ fetchPage: pages(), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence, peer: a.signer.nodeId });
    expect(again.refusal?.forkProofFile).toBe(file);
    expect(await readdir(evidence)).toEqual([`${a.signer.nodeId}-3.forkproof`]);

    // A different file under that name stays as it is; the proof goes beside it.
    await writeFile(file, 'kept by hand');
    const beside = await auditChain({ fetchPage: pages(), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence, peer: a.signer.nodeId });
    expect(beside.refusal?.forkProofFile).toBe(join(evidence, `${a.signer.nodeId}-3-2.forkproof`));
    expect(await readFile(file, 'utf8')).toBe('kept by hand');
    expect((await readdir(evidence)).sort()).toEqual([`${a.signer.nodeId}-3-2.forkproof`, `${a.signer.nodeId}-3.forkproof`]);
  });

  it('reports the idle burns owed by now as a warning; the chain still passes', async () => {
    const rules = chainRules();
    const [a] = new TestNodes(rules, AT).nodes;
    // Genesis 1 Jan 10:00: idle boundaries from 9 Jan 00:00 (docs/chain.md's worked example); three by 11 Jan 12:00.
    const report = await auditChain({ fetchPage: servedBy(a.blocks, a.signer.nodeId), rules, nowMs: Date.UTC(2025, 0, 11, 12), evidenceDir: evidence });
    expect(report.ok).toBe(true);
    expect(report.owed).toEqual({ count: 3, amount: 28n, balances: { available: 100n, locked: 872n, burned: 28n, received: 0n, paid: 0n, pledged: 0n } });
    expect(chainFailure(report)).toBeUndefined();
    expect(chainSummaryRows(report).at(-1)).toEqual([
      'owed burns',
      'warning: 3 idle burns of 28 credits in all are due by now and not on the chain yet (then 100 available, 872 locked)',
    ]);
    expect(documentOf(report)).toMatchObject({ doc: { ok: true, owed: { count: 3, amount: '28', balances: { burned: '28' } } }, errors: null });
  });

  it('refuses a chain above the size bound before fetching its blocks (SWARM_PAYLOAD_TOO_LARGE)', async () => {
    const [a] = history(4).nodes;
    const calls: bigint[] = [];
    const err = await auditChain({ fetchPage: servedBy(a.blocks, a.signer.nodeId, calls), rules: RULES, nowMs: AT + DAY, evidenceDir: evidence, maxBlocks: 3 }).catch(
      (e: unknown) => e,
    );
    expect(toCliError(err)).toMatchObject({
      code: 'SWARM_PAYLOAD_TOO_LARGE',
      message: `the chain of ${a.signer.nodeId.slice(0, 12)} holds 5 blocks; an audit reads at most 3 blocks`,
    });
    expect(calls).toEqual([1n]);
  });

  it("reports the gateway's refusal of a peer's page, and passes any other failure on", async () => {
    const peer = 'ab'.repeat(32);
    const refusedByGateway: FetchChainPage = async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, `chain refused (wrong-node): peer ${peer.slice(0, 12)} answered the chain of node 0123456789ab, not its own`);
    };
    const report = await auditChain({ fetchPage: refusedByGateway, rules: RULES, nowMs: AT, evidenceDir: evidence, peer });
    expect(report).toMatchObject({
      nodeId: peer,
      ok: false,
      refusal: { reason: 'wrong-node', seq: 0n, message: "the gateway refused the peer's answer: peer abababababab answered the chain of node 0123456789ab, not its own" },
    });
    expect(chainFailure(report)?.message).toMatch(new RegExp(`^the chain of ${peer} was refused \\(wrong-node\\)`));

    const unreachable: FetchChainPage = async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'peer abababababab cannot be reached');
    };
    const err = await auditChain({ fetchPage: unreachable, rules: RULES, nowMs: AT, evidenceDir: evidence, peer }).catch((e: unknown) => e);
    expect(toCliError(err)).toMatchObject({ code: 'SWARM_UNAVAILABLE', message: 'peer abababababab cannot be reached' });
  });
});

describe('swarm ledger - the chain rules from the environment', () => {
  it('reads SWARM_CHAIN_* (defaults when unset)', () => {
    expect(chainRulesOfEnv({})).toEqual(chainRules());
    expect(chainRulesOfEnv({ SWARM_CHAIN_GENESIS_GRANT: '500', SWARM_CHAIN_DRAIN_PPM: '0' })).toMatchObject({ genesisGrant: 500n, drainPpm: 0 });
  });

  it('refuses a bad value, and values that disagree, as SWARM_BAD_CONFIG', () => {
    const bad = (env: NodeJS.ProcessEnv) => {
      try {
        chainRulesOfEnv(env);
      } catch (err) {
        return toCliError(err);
      }
      throw new Error('expected a configuration error');
    };
    expect(bad({ SWARM_CHAIN_DRAIN_PPM: 'lots' })).toMatchObject({ code: 'SWARM_BAD_CONFIG', message: expect.stringContaining('SWARM_CHAIN_DRAIN_PPM') });
    expect(bad({ SWARM_CHAIN_GENESIS_GRANT: '50', SWARM_CHAIN_STARTER_ALLOWANCE: '100' })).toMatchObject({
      code: 'SWARM_BAD_CONFIG',
      message: expect.stringContaining('starterAllowance'),
    });
  });
});
