/**
 * `swarm ledger`: the node's chain of signed blocks, or a peer's, audited by the CLI itself, and with
 * `--audit` credit-svc's replay of the ledger's entry log beside it. Operators' requests (observer key).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChainRules, FetchChainPage, VoidBreach } from '@swarm/chain';
import { chainRulesFromVars, patientPages, voidBreachWatch } from '@swarm/chain';
import { CHAIN_VARS, ConfigError, loadEnv } from '@swarm/config';
import type { AuditResponse, SignedVoid } from '@swarm/contracts';
import { AuditResponse as AuditResponseCodec, ErrorCode, ForkProof, isSwarmError, Receipt } from '@swarm/contracts';
import type { SwarmClient } from '@swarm/client';
import { resolveNodeHome } from '@swarm/client';
import { CliError } from '../cli-error';
import { connectToNode } from '../node-file';
import { ms, printGrid, printJson, printTable, protoJson, withProgress } from '../output';
import type { ChainReport } from './chain-audit';
import { auditChain, chainBlockGrid, chainFailure, chainReportJson, chainSummaryRows } from './chain-audit';
import { EVIDENCE_DIR } from './chain-evidence';

/** A whole node id: 64 hex characters. */
const NODE_ID_CHARS = 64;

export interface LedgerOptions {
  audit?: boolean;
  /** A peer's node id, or the first 12+ of a known peer's (lowercase hex, checked by main.ts): audit its chain instead of this node's. */
  peer?: string;
  nats?: string;
  dataDir?: string;
  /** Node i of a swarm in the data dir (see node-file.ts). */
  node?: number;
  json?: boolean;
}

/**
 * `swarm ledger [--audit] [--peer ID]`. The node's chain (docs/chain.md), or with `--peer` a peer's
 * through the node's gateway, fetched page by page and audited here, independently of any node:
 * every signature, countersignature, hash link and balance, the genesis lock and the idle burns;
 * then its balances and last blocks. `--audit` adds credit-svc's replay of the ledger's entry log
 * (credit-svc is the only process that may read the ledger). Prints a table or one JSON document,
 * and exits 1 with SWARM_AUDIT_FAILED when either audit found a problem (a fork's proof is kept in
 * <data-dir>/chain-evidence; a peer's fork or broken void is proven to the node's router, which then
 * never dispatches to that peer again, and the receipts of a broken void are paid after all, so
 * both chains hold them); idle burns owed are a warning.
 */
export async function ledgerCommand(opts: LedgerOptions): Promise<void> {
  // The rules first: a bad variable is the operator's to fix before anything is asked of the node.
  const rules = chainRulesOfEnv(process.env);
  // Chain pages and the ledger replay are operators' (observer) requests, not a client's.
  const client = await connectToNode(opts, 'observer');
  try {
    if (opts.peer !== undefined) opts = { ...opts, peer: await peerIdOf(client, opts.peer) };
    // Said, not silently skipped: the ledger replay is this node's, a peer's chain is audited here anyway.
    if (opts.audit && opts.peer !== undefined)
      process.stderr.write("note: --audit replays this node's own ledger; with --peer only the peer's chain is audited (`swarm ledger --audit` for this node's)\n");
    const ledger = opts.audit && opts.peer === undefined ? await withProgress('auditing the ledger', !opts.json, () => observerOnly(client.audit())) : undefined;
    const peer = opts.peer;
    // A peer's chain is also checked against the voids it countersigned for this node, when this
    // node's credit-svc can page them (one from before voids cannot: the chain is audited anyway).
    let voidsNote: string | undefined;
    const watch =
      peer === undefined
        ? undefined
        : await withProgress("reading this node's voids", !opts.json, () => voidWatchOf(client, peer)).catch((err: unknown) => {
            if (!isSwarmError(err, ErrorCode.ERROR_CODE_UNAVAILABLE) && !(err instanceof CliError && err.code === 'SWARM_PERMISSION_DENIED')) throw err;
            voidsNote = `note: this node's voids could not be read (${err instanceof Error ? shown(err) : 'no answer'}), so the peer's chain was not checked against them`;
            return undefined;
          });
    const audited = await withProgress(peer ? `auditing the chain of ${peer.slice(0, 12)}…` : "auditing the node's chain", !opts.json, () =>
      auditChain({
        fetchPage: pagesOf(client, peer),
        rules,
        nowMs: Date.now(),
        evidenceDir: join(resolveNodeHome(opts), EVIDENCE_DIR),
        ...(peer ? { peer } : {}),
        ...(watch ? { onEntry: watch.onEntry } : {}),
      }),
    );
    // Breaches found in the pages that passed count even when a later page was refused.
    const breaches = watch?.breaches() ?? [];
    const chain = watch ? { ...audited, voidBreaches: breaches.map(({ receiptId, seq, amount }) => ({ receiptId, seq, amount })) } : audited;
    const actionNotes = [await reportForkToRouter(client, chain), await reportVoidBreachToRouter(client, chain, breaches), await reinstateBreached(client, breaches)];
    if (opts.json) printJson(ledger ? { ...(protoJson(AuditResponseCodec, ledger) as object), chain: chainReportJson(chain) } : chainReportJson(chain));
    else {
      if (ledger) printAudit(ledger);
      printChain(chain, ledger !== undefined);
    }
    // Beside the one JSON document, never inside it.
    for (const note of [voidsNote, ...actionNotes]) if (note) (opts.json ? process.stderr : process.stdout).write(`${note}\n`);
    const failures = [ledger && !ledger.ok ? ledgerFailure(ledger) : undefined, chainFailure(chain)].filter((f): f is CliError => f !== undefined);
    if (failures.length > 0) throw new CliError('SWARM_AUDIT_FAILED', failures.map((f) => f.message).join('; and '));
  } finally {
    await client.close();
  }
}

/** A service's refusal or a bus error is shown up to this many characters. */
const MAX_SHOWN_MESSAGE_CHARS = 300;

function shown(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, MAX_SHOWN_MESSAGE_CHARS);
}

/**
 * A peer's fork whose proof was kept: the node's router is sent the proof (RouterReportFork) and
 * stops trusting the peer. What to print about it; undefined when there is nothing to report. Not
 * reaching the router is a warning, not another failure: the audit fails with SWARM_AUDIT_FAILED
 * either way, and the proof stays kept for another try.
 */
async function reportForkToRouter(client: SwarmClient, report: ChainReport): Promise<string | undefined> {
  const file = report.refusal?.reason === 'fork' ? report.refusal.forkProofFile : '';
  if (!report.peer || file === '') return undefined;
  return tellRouter('the fork', report.nodeId, async () => client.reportFork(ForkProof.decode(await readFile(file))));
}

/**
 * A peer that broke its word on a void: the node's router is sent the first breach's proof (the
 * countersigned void and the peer's block; one convicts) and stops trusting the peer, as for a fork.
 * The proof needs no file here: this node's credit-svc keeps the void, so the audit finds it again.
 */
async function reportVoidBreachToRouter(client: SwarmClient, report: ChainReport, breaches: readonly VoidBreach[]): Promise<string | undefined> {
  const [first] = breaches;
  if (!report.peer || first === undefined) return undefined;
  return tellRouter('the broken void', report.nodeId, () => client.reportVoidBreach(first.proof));
}

/**
 * A peer that broke its word kept the receipts in its chain: this node's credit-svc pays each after
 * all (appends it as RECEIPT_OUT, its amount back to the peer's account), so both chains hold it
 * again. What to print: one line for them all; a failure is a warning (the audit fails anyway, and
 * running it again asks again).
 */
async function reinstateBreached(client: SwarmClient, breaches: readonly VoidBreach[]): Promise<string | undefined> {
  if (breaches.length === 0) return undefined;
  let paid = 0;
  let already = 0;
  let amount = 0n;
  let failed = 0;
  let firstFailure = '';
  // Each on its own: one the chain cannot pay now does not hold up a smaller one it can.
  for (const b of breaches) {
    try {
      const done = await client.reinstateVoided(b.proof);
      if (done.alreadyReinstated) already += 1;
      else {
        paid += 1;
        amount += done.amount;
      }
    } catch (err) {
      failed += 1;
      firstFailure ||= `${b.receiptId.slice(0, 80)}: ${shown(err)}`;
    }
  }
  const now = paid > 0 ? `paid ${paid} voided receipt${paid === 1 ? '' : 's'} after all (${amount} credits), now in this node's chain as well` : '';
  const before = already > 0 ? `${already} ${already === 1 ? 'was' : 'were'} paid after all before` : '';
  const done = [now, before].filter(Boolean).join('; ');
  if (failed === 0) return `credit: ${done}`;
  const warning = `warning: this node's credit-svc could not pay ${failed} voided receipt${failed === 1 ? '' : 's'} after all (the first, ${firstFailure}). Run this audit again to ask again`;
  return done ? `credit: ${done}\n${warning}` : warning;
}

/** Sends one proof to the router; what to print about its answer, or about not reaching it. */
async function tellRouter(what: string, nodeId: string, send: () => Promise<{ nodeId: string; alreadyKnown: boolean }>): Promise<string> {
  try {
    const told = await send();
    return `router: node ${told.nodeId} is now untrusted (${told.alreadyKnown ? 'it already was' : 'convicted by this proof'}); this node never dispatches to it again`;
  } catch (err) {
    const why = shown(err);
    return `warning: the node's router could not be told of ${what} (${why}); it may still dispatch to ${nodeId}. Run this audit again to send the proof again`;
  }
}

/** The swarm's chain rules from SWARM_CHAIN_*; SWARM_BAD_CONFIG names a bad value (or two that disagree). */
export function chainRulesOfEnv(env: NodeJS.ProcessEnv): ChainRules {
  const vars = loadEnv(env, CHAIN_VARS);
  try {
    return chainRulesFromVars(vars);
  } catch (err) {
    if (isSwarmError(err, ErrorCode.ERROR_CODE_INVALID_ARGUMENT)) throw new ConfigError([`SWARM_CHAIN_*: ${err.message}`]);
    throw err;
  }
}

/** Most pages of voids read from credit-svc for one peer audit (each of up to 256 voids): a bound on a broken answer. */
const MAX_VOID_PAGES = 4_000;

/**
 * The voids this node holds as payer, countersigned (every page of credit.paid-voids), as a watch
 * over `peer`'s chain for the receipts they void (voidBreachWatch). Voids to other payees are left out.
 */
async function voidWatchOf(client: SwarmClient, peer: string): Promise<ReturnType<typeof voidBreachWatch>> {
  const voids: SignedVoid[] = [];
  let payer = '';
  for (let after = '', pages = 0; ; pages += 1) {
    // Checked in full or not at all: a check that stopped early would pass a breach behind it.
    if (pages === MAX_VOID_PAGES)
      throw new CliError('SWARM_INTERNAL', `credit-svc answered more than ${MAX_VOID_PAGES} pages of voids; the peer's chain was not checked against them`);
    const page = await observerOnly(client.paidVoids(after, 0));
    for (const v of page.voids) {
      const r = Receipt.decode(v.receipt);
      payer = r.payer;
      if (r.payee === peer) voids.push(v);
    }
    if (page.nextAfterReceiptId === '') break;
    if (page.nextAfterReceiptId <= after)
      throw new CliError('SWARM_INTERNAL', "credit-svc's pages of voids went back instead of on; the peer's chain was not checked against them");
    after = page.nextAfterReceiptId;
  }
  return voidBreachWatch(payer, peer, voids);
}

/**
 * A whole node id as given, or the one peer this node knows whose id starts with `prefix` (tables
 * print ids shortened). None or several is bad usage: `swarm peers` lists the whole ids; so is this
 * node's own id.
 */
async function peerIdOf(client: SwarmClient, prefix: string): Promise<string> {
  if (prefix.length === NODE_ID_CHARS) return prefix;
  const matches = (await observerOnly(client.peers())).peers.map((p) => p.nodeId).filter((id) => id.startsWith(prefix));
  // This node's own id is no peer's: say so rather than "no peer has it" (a whole id of its own
  // is refused by its gateway).
  if (matches.length === 0 && (await observerOnly(client.chainBlocks(1n, 1))).nodeId.startsWith(prefix)) {
    throw new CliError('SWARM_BAD_ARGS', `${prefix} is the start of this node's own id: \`swarm ledger\` without --peer audits this node's chain`);
  }
  if (matches.length === 1) {
    // Said, since a prefix names whichever known peer has it: the operator sees which one.
    process.stderr.write(`note: --peer ${prefix} is ${matches[0]}\n`);
    return matches[0];
  }
  throw new CliError(
    'SWARM_BAD_ARGS',
    matches.length === 0
      ? `no peer this node knows has an id starting with ${prefix} (\`swarm peers\` lists them; a node it does not know needs its whole 64-character id)`
      : `${matches.length} peers this node knows have ids starting with ${prefix}: give more of it (\`swarm peers\` lists them)`,
  );
}

/**
 * Pages of the node's own chain (credit-svc), or of a peer's (through the node's gateway). A peer
 * paces the bytes of pages it sends each caller (OVERLOADED with when to retry): a long chain's
 * audit waits its turns, said once.
 */
function pagesOf(client: SwarmClient, peer: string | undefined): FetchChainPage {
  if (peer === undefined) return (fromSeq, limit) => observerOnly(client.chainBlocks(fromSeq, limit));
  let told = false;
  const onWait = (waitMs: number) => {
    if (told) return;
    told = true;
    process.stderr.write(`note: peer ${peer.slice(0, 12)} paces the chain pages it sends; waiting ${waitMs} ms, and as long as it asks for the pages after\n`);
  };
  return patientPages((fromSeq, limit) => observerOnly(client.fetchChain(peer, fromSeq, limit)), { sleep: (waitMs) => sleep(waitMs), onWait });
}

/** A client key may not ask these: say which key the operator needs. */
function observerOnly<T>(request: Promise<T>): Promise<T> {
  return request.catch((err: unknown) => {
    if (!isSwarmError(err, ErrorCode.ERROR_CODE_PERMISSION_DENIED)) throw err;
    throw new CliError(
      'SWARM_PERMISSION_DENIED',
      "the ledger and chain audits are an operator's requests: they need the node's observer key (<data-dir>/bus/observer.nk, found through --data-dir or SWARM_HOME); a client key may not ask them",
    );
  });
}

function ledgerFailure(res: AuditResponse): CliError {
  return new CliError('SWARM_AUDIT_FAILED', `the ledger audit found ${res.problems.length === 1 ? 'a problem' : 'problems'}: ${res.problems[0] ?? 'see above'}`);
}

function printChain(report: ChainReport, underLedger: boolean): void {
  if (underLedger) process.stdout.write('chain:\n');
  printTable(chainSummaryRows(report));
  const grid = chainBlockGrid(report);
  if (grid.rows.length === 0) return;
  process.stdout.write(`last ${grid.rows.length} block${grid.rows.length === 1 ? '' : 's'}${report.blocksOmitted > 0n ? ` (${report.blocksOmitted} earlier not listed)` : ''}:\n`);
  printGrid(grid.head, grid.rows);
}

function printAudit(res: AuditResponse): void {
  printTable([
    ['result', res.ok ? 'ok: the log explains every stored balance and escrow' : `${res.problems.length} problem line(s), listed below`],
    ['log entries', `${res.entriesChecked} replayed`],
    ['escrows', `${res.escrowsChecked} checked (${res.openEscrows} open)${res.ok ? ', each closed at most once' : ''}`],
    [
      'credit',
      `${res.genesis} granted${res.received > 0n ? ` + ${res.received} received from other nodes` : ''}; accounts hold ${res.available} available + ${res.escrowed} escrowed`,
    ],
    ['accounts', `${res.accountsChecked} checked`],
    ['took', ms(Number(res.durationMs))],
  ]);
  if (res.accounts.length > 0) {
    printGrid(
      ['account', 'stored available / escrowed', 'from the log', 'stored = log'],
      res.accounts.map((a) => {
        const same = a.storedAvailable === a.logAvailable && a.storedEscrowed === a.logEscrowed;
        return [a.account, `${a.storedAvailable} / ${a.storedEscrowed}`, `${a.logAvailable} / ${a.logEscrowed}`, same ? 'same' : 'DIFFERS'];
      }),
    );
  }
  if (res.accountsOmitted > 0n) process.stdout.write(`… and ${res.accountsOmitted} more accounts (in the totals above, not listed)\n`);
  if (res.problems.length > 0) process.stdout.write(`problems:\n${res.problems.map((p) => `  - ${p}\n`).join('')}`);
}
