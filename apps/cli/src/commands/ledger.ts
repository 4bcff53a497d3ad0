import { AuditResponse, ErrorCode, isSwarmError } from '@swarm/contracts';
import { CliError } from '../cli-error';
import { connectToNode } from '../node-file';
import { ms, printGrid, printJson, printTable, protoJson, withProgress } from '../output';

export interface LedgerOptions {
  audit?: boolean;
  nats?: string;
  dataDir?: string;
  /** Node i of a swarm in the data dir (see node-file.ts). */
  node?: number;
  json?: boolean;
}

/**
 * `swarm ledger --audit`: credit-svc, the only process that may read the ledger, replays its entry
 * log and compares every balance and escrow with the stored records. Prints the summary (table or
 * one JSON document) and exits 1 with SWARM_AUDIT_FAILED when the audit found a problem.
 */
export async function ledgerCommand(opts: LedgerOptions): Promise<void> {
  if (!opts.audit) throw new CliError('SWARM_BAD_ARGS', 'say what to do with the ledger: --audit (recompute balances and escrows from the entry log)');
  // The audit reads every account: an operator's (observer) request, not a client's.
  const client = await connectToNode(opts, 'observer');
  try {
    const res = await withProgress('auditing the ledger', !opts.json, () => client.audit()).catch((err: unknown) => {
      if (!isSwarmError(err, ErrorCode.ERROR_CODE_PERMISSION_DENIED)) throw err;
      throw new CliError(
        'SWARM_PERMISSION_DENIED',
        "the audit is an operator's request: it needs the node's observer key (<data-dir>/bus/observer.nk, found through --data-dir or SWARM_HOME); a client key may not ask it",
      );
    });
    if (opts.json) printJson(protoJson(AuditResponse, res));
    else printAudit(res);
    if (!res.ok) {
      throw new CliError('SWARM_AUDIT_FAILED', `the ledger audit found ${res.problems.length === 1 ? 'a problem' : 'problems'}: ${res.problems[0] ?? 'see above'}`);
    }
  } finally {
    await client.close();
  }
}

function printAudit(res: AuditResponse): void {
  printTable([
    ['result', res.ok ? 'ok: the log explains every stored balance and escrow' : `${res.problems.length} problem line(s), listed below`],
    ['log entries', `${res.entriesChecked} replayed`],
    ['escrows', `${res.escrowsChecked} checked (${res.openEscrows} open)${res.ok ? ', each closed at most once' : ''}`],
    ['credit', `${res.genesis} granted; accounts hold ${res.available} available + ${res.escrowed} escrowed`],
    ['accounts', `${res.accountsChecked} checked`],
    ['took', ms(Number(res.durationMs))],
  ]);
  if (res.accounts.length > 0) {
    printGrid(
      ['account', 'stored available / escrowed', 'from the log', ''],
      res.accounts.map((a) => {
        const same = a.storedAvailable === a.logAvailable && a.storedEscrowed === a.logEscrowed;
        return [a.account, `${a.storedAvailable} / ${a.storedEscrowed}`, `${a.logAvailable} / ${a.logEscrowed}`, same ? 'same' : 'DIFFERS'];
      }),
    );
  }
  if (res.accountsOmitted > 0n) process.stdout.write(`… and ${res.accountsOmitted} more accounts (in the totals above, not listed)\n`);
  if (res.problems.length > 0) process.stdout.write(`problems:\n${res.problems.map((p) => `  - ${p}\n`).join('')}`);
}
