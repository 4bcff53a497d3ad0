/**
 * The chain half of `swarm ledger`: a node's chain — the node's own, or a peer's through the node's
 * gateway — fetched page by page and audited here in the CLI, independently of any node
 * (auditChainPages from @swarm/chain: every signature, countersignature, hash link and balance, the
 * genesis lock and the idle burns). What it found becomes one report, printed as a table or as the
 * `--json` document ChainAudit of docs/cli-json.schema.json. A fork's proof is kept on disk.
 */
import type { ChainPage, ChainRules, ChainEntry, FetchChainPage, PagedChainAudit } from '@swarm/chain';
import { auditChainPages, ChainRefusal, MAX_AUDITED_BLOCKS, NODE_ID } from '@swarm/chain';
import type { ChainBalances } from '@swarm/chain';
import { BlockKind, ErrorCode, isSwarmError } from '@swarm/contracts';
import { CliError } from '../cli-error';
import { keepForkProof } from './chain-evidence';

/** Blocks the report lists, the last ones. */
export const RECENT_BLOCKS = 20;
/** A refusal relayed by the gateway is shown up to this many characters. */
const MAX_RELAYED_MESSAGE_CHARS = 300;
/** Node ids in the table: enough to tell nodes apart. */
const SHORT_ID_CHARS = 12;
/** Wide enough for a router-made id (task-<uuid>, 41) and a client key of up to 64. */
const MAX_TASK_ID_CHARS = 64;
/** How a ChainRefusal's message begins: `chain refused at block 4 (broken-link): `. */
const REFUSAL_PREFIX = /^chain refused(?: at block (\d{1,20}))? \(([a-z-]+)\): /;

/** One block as the report lists it; amounts and times are the block's. */
export interface ChainBlockRow {
  readonly seq: bigint;
  /** The proto enum name, e.g. BLOCK_KIND_RECEIPT_IN. */
  readonly kind: string;
  readonly amount: bigint;
  /** The other node of a receipt (the payee of a RECEIPT_OUT, PLEDGE or RELEASE, the payer of a RECEIPT_IN); empty otherwise. */
  readonly counterparty: string;
  /** The receipt's task; empty for GENESIS and BURN. */
  readonly taskId: string;
  readonly atMs: bigint;
}

export interface ChainRefusalReport {
  /** ChainRefusal's reason (docs/chain.md), e.g. broken-link, fork. */
  readonly reason: string;
  /** The refused block's seq; 0 when the refusal names none. */
  readonly seq: bigint;
  /** What the rule found, without the reason and seq (those are the fields above). */
  readonly message: string;
  /** With reason `fork`: where the proof is kept; empty otherwise. */
  readonly forkProofFile: string;
}

export interface ChainReport {
  /** Whose chain: the peer asked, else the node's id as its blocks (or its answer) name it. */
  readonly nodeId: string;
  /** A peer's chain (`--peer`), not the node's own. */
  readonly peer: boolean;
  /** Every block passed every rule. */
  readonly ok: boolean;
  /** The last block audited (0 when refused). */
  readonly headSeq: bigint;
  /** The head seq the node reported when the audit began. */
  readonly reportedHeadSeq: bigint;
  readonly blocksChecked: bigint;
  /** Derived from the chain; absent when it was refused. */
  readonly balances?: ChainBalances;
  /** Idle burns due by the auditor's clock that the chain does not hold yet: a warning, not a failure. */
  readonly owed?: { readonly count: number; readonly amount: bigint; readonly balances: ChainBalances };
  /** The last RECENT_BLOCKS blocks, oldest first; empty when refused. */
  readonly blocks: readonly ChainBlockRow[];
  readonly blocksOmitted: bigint;
  readonly refusal?: ChainRefusalReport;
  /**
   * With --peer: receipts to that node which it voided at this node's request and holds in its chain
   * anyway (it countersigned both: it broke its word; docs/chain.md "Voids"). Empty when none.
   */
  readonly voidBreaches?: readonly VoidBreachRow[];
}

export interface VoidBreachRow {
  readonly receiptId: string;
  /** The peer's block holding the voided receipt. */
  readonly seq: bigint;
  readonly amount: bigint;
}

export interface ChainAuditInput {
  readonly fetchPage: FetchChainPage;
  readonly rules: ChainRules;
  /** The auditor's clock: refuses blocks from the future, counts owed burns. */
  readonly nowMs: number;
  /** The peer whose chain this must be (`--peer`); undefined for the node's own. */
  readonly peer?: string;
  /** Where a fork proof is kept (<data-dir>/chain-evidence). */
  readonly evidenceDir: string;
  readonly maxBlocks?: number;
  readonly pageLimit?: number;
  /** Told of every verified block (the void breach watch). */
  readonly onEntry?: (entry: ChainEntry, block: Uint8Array) => void;
}

/**
 * Audits the chain and reports what it found. A refusal is a report (ok false), a fork's with the
 * file its proof was written to; a fetch that fails (no node, an unknown peer) throws as it failed.
 */
export async function auditChain(input: ChainAuditInput): Promise<ChainReport> {
  let first: ChainPage | undefined;
  const fetchPage: FetchChainPage = async (fromSeq, limit) => {
    const page = await input.fetchPage(fromSeq, limit);
    first ??= page;
    return page;
  };
  const peer = input.peer !== undefined;
  try {
    const audit = await auditChainPages(fetchPage, input.rules, {
      nowMs: input.nowMs,
      maxBlocks: input.maxBlocks ?? MAX_AUDITED_BLOCKS,
      recentEntries: RECENT_BLOCKS,
      ...(input.pageLimit === undefined ? {} : { pageLimit: input.pageLimit }),
      ...(input.peer === undefined ? {} : { expectedNodeId: input.peer }),
      ...(input.onEntry === undefined ? {} : { onEntry: input.onEntry }),
    });
    return passed(audit, peer);
  } catch (err) {
    const nodeId = input.peer ?? (first && NODE_ID.test(first.nodeId) ? first.nodeId : '');
    const refusal = await refusalOf(err, input.evidenceDir, nodeId);
    return { nodeId, peer, ok: false, headSeq: 0n, reportedHeadSeq: first?.headSeq ?? 0n, blocksChecked: 0n, blocks: [], blocksOmitted: 0n, refusal };
  }
}

function passed(audit: PagedChainAudit, peer: boolean): ChainReport {
  const { head, owed } = audit;
  return {
    nodeId: head.nodeId,
    peer,
    ok: true,
    headSeq: head.seq,
    reportedHeadSeq: audit.reportedHeadSeq,
    blocksChecked: BigInt(audit.blocksChecked),
    balances: head.balances,
    ...(owed ? { owed: { count: owed.count, amount: owed.amount, balances: owed.head.balances } } : {}),
    blocks: audit.recent.map(rowOf),
    blocksOmitted: BigInt(audit.blocksChecked - audit.recent.length),
  };
}

function rowOf(entry: ChainEntry): ChainBlockRow {
  const r = entry.receipt;
  const out = entry.kind !== BlockKind.BLOCK_KIND_RECEIPT_IN;
  return {
    seq: entry.seq,
    kind: BlockKind[entry.kind] ?? String(entry.kind),
    amount: entry.amount,
    counterparty: r ? (out ? r.payee : r.payer) : '',
    // A verified receipt's id is `task_id ":" payer ":" payee` (docs/chain.md).
    taskId: r ? r.receiptId.slice(0, r.receiptId.length - r.payer.length - r.payee.length - 2) : '',
    atMs: entry.atMs,
  };
}

/** A chain refusal as a report (a fork's proof kept first); anything else is thrown again. */
async function refusalOf(err: unknown, evidenceDir: string, nodeId: string): Promise<ChainRefusalReport> {
  if (err instanceof ChainRefusal) {
    const seq = err.seq ?? 0n;
    const message = err.message.replace(REFUSAL_PREFIX, '');
    if (err.reason !== 'fork' || err.forkProof === undefined) return { reason: err.reason, seq, message, forkProofFile: '' };
    const file = await keepForkProof(evidenceDir, err.forkProof).catch((e: unknown) => {
      const why = e instanceof Error ? e.message : String(e);
      throw new CliError('SWARM_OS_ERROR', `node ${nodeId} forked at block ${seq}, but its proof could not be kept in ${evidenceDir}: ${why}`);
    });
    return { reason: err.reason, seq, message, forkProofFile: file };
  }
  // The gateway checks a peer's page before handing it over; its refusal comes as a SwarmError.
  if (isSwarmError(err, ErrorCode.ERROR_CODE_INVALID_CHAIN)) {
    const [, seq, reason] = REFUSAL_PREFIX.exec(err.message) ?? [];
    const message = `the gateway refused the peer's answer: ${err.message.replace(REFUSAL_PREFIX, '').slice(0, MAX_RELAYED_MESSAGE_CHARS)}`;
    return { reason: reason ?? 'invalid-chain', seq: seq === undefined ? 0n : BigInt(seq), message, forkProofFile: '' };
  }
  throw err;
}

/** SWARM_AUDIT_FAILED for a refused chain (naming the reason and the block) or a peer's broken voids; undefined when it passed. */
export function chainFailure(report: ChainReport): CliError | undefined {
  const r = report.refusal;
  const whose = report.peer ? `the chain of ${report.nodeId}` : "the node's chain";
  const parts: string[] = [];
  if (!report.ok && r !== undefined) {
    parts.push(
      r.reason === 'fork'
        ? `${whose} forked: two different blocks with seq ${r.seq}; the proof is kept in ${r.forkProofFile}`
        : `${whose} was refused${r.seq > 0n ? ` at block ${r.seq}` : ''} (${r.reason}): ${r.message}`,
    );
  }
  const broken = report.voidBreaches ?? [];
  if (broken.length > 0) {
    parts.push(
      `${whose} holds ${broken.length} receipt${broken.length === 1 ? '' : 's'} it voided at this node's request (it countersigned both the void and the receipt: it broke its word), the first ${broken[0].receiptId.slice(0, 80)} at block ${broken[0].seq}`,
    );
  }
  return parts.length === 0 ? undefined : new CliError('SWARM_AUDIT_FAILED', parts.join('; and '));
}

/** The summary table's rows. */
export function chainSummaryRows(report: ChainReport): Array<[string, string]> {
  const rows: Array<[string, string]> = [['node', `${report.nodeId || '(unknown)'}${report.peer ? ' (peer)' : ' (this node)'}`]];
  const r = report.refusal;
  if (!report.ok && r !== undefined) {
    if (r.reason === 'fork') {
      rows.push(['result', `FORKED: the node signed two different blocks with seq ${r.seq}`], ['fork proof', `kept in ${r.forkProofFile}`]);
    } else {
      rows.push(['result', `REFUSED${r.seq > 0n ? ` at block ${r.seq}` : ''} (${r.reason}): ${r.message}`]);
    }
    rows.push(['head', `seq ${report.reportedHeadSeq} as the node reported it`]);
    return [...rows, ...voidsRows(report)];
  }
  rows.push(
    ['result', 'ok: every signature, countersignature, hash link and balance, the genesis lock and the idle burns check out'],
    ['blocks', `${report.blocksChecked} audited (head seq ${report.headSeq})`],
  );
  const b = report.balances;
  if (b)
    rows.push(
      ['available', String(b.available)],
      ['locked', String(b.locked)],
      ['burned', String(b.burned)],
      ['received', String(b.received)],
      ['paid', String(b.paid)],
      ['pledged', String(b.pledged)],
    );
  rows.push(['owed burns', owedText(report)]);
  return [...rows, ...voidsRows(report)];
}

/** A peer audit's check against this node's voids: none broken, or how many and the first. */
function voidsRows(report: ChainReport): Array<[string, string]> {
  const broken = report.voidBreaches;
  if (broken === undefined) return [];
  if (broken.length === 0) return [['voids', `none of this node's voids of receipts to it is in its chain${report.ok ? '' : ' (of the blocks audited)'}`]];
  const credits = broken.reduce((sum, b) => sum + b.amount, 0n);
  return [
    [
      'voids',
      `BROKEN: ${broken.length} receipt${broken.length === 1 ? '' : 's'} it voided at this node's request ${broken.length === 1 ? 'is' : 'are'} in its chain (${credits} credits), the first ${broken[0].receiptId.slice(0, 80)} at block ${broken[0].seq}`,
    ],
  ];
}

function owedText(report: ChainReport): string {
  const owed = report.owed;
  if (!owed || owed.count === 0) return 'none by now';
  const after = owed.balances;
  return `warning: ${owed.count} idle burn${owed.count === 1 ? '' : 's'} of ${owed.amount} credits in all are due by now and not on the chain yet (then ${after.available} available, ${after.locked} locked)`;
}

/** The blocks table: header and rows. */
export function chainBlockGrid(report: ChainReport): { head: string[]; rows: string[][] } {
  return {
    head: ['seq', 'kind', 'amount', 'counterparty', 'task', 'time (UTC)'],
    rows: report.blocks.map((b) => [String(b.seq), b.kind.replace(/^BLOCK_KIND_/, ''), String(b.amount), shortId(b.counterparty), taskLines(b.taskId), timeOf(b.atMs)]),
  };
}

function shortId(nodeId: string): string {
  return nodeId.length > SHORT_ID_CHARS ? `${nodeId.slice(0, SHORT_ID_CHARS)}…` : nodeId;
}

/** Whole, over lines of MAX_TASK_ID_CHARS: `swarm task <id>` takes it as printed. */
function taskLines(taskId: string): string {
  const lines: string[] = [];
  for (let i = 0; i < taskId.length; i += MAX_TASK_ID_CHARS) lines.push(taskId.slice(i, i + MAX_TASK_ID_CHARS));
  return lines.join('\n');
}

function timeOf(atMs: bigint): string {
  const date = new Date(Number(atMs));
  return Number.isNaN(date.getTime())
    ? String(atMs)
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The report as its JSON document (docs/cli-json.schema.json `ChainAudit`): every scalar present,
 * absent only the unset parts (balances and owed of a refused chain, refusal of a sound one);
 * printJson writes the uint64 values as decimal strings.
 */
export function chainReportJson(report: ChainReport): Record<string, unknown> {
  const { balances, owed, refusal, ...rest } = report;
  return {
    ...rest,
    blocks: [...report.blocks],
    ...(balances ? { balances: { ...balances } } : {}),
    ...(owed ? { owed: { count: owed.count, amount: owed.amount, balances: { ...owed.balances } } } : {}),
    ...(refusal ? { refusal: { ...refusal } } : {}),
    ...(report.voidBreaches ? { voidBreaches: report.voidBreaches.map((b) => ({ ...b })) } : {}),
  };
}
