import { BalanceResponse } from '@swarm/contracts';
import type { NodeTarget } from '../node-file';
import { connectToNode } from '../node-file';
import { credits, printJson, printTable, protoJson } from '../output';

export async function balanceCommand(opts: NodeTarget & { account?: string; json?: boolean }): Promise<void> {
  const client = await connectToNode(opts);
  try {
    const b = await client.balance(opts.account ?? '');
    if (opts.json) return printJson(protoJson(BalanceResponse, b));
    printTable([
      ['account', b.account],
      ['available', credits(b.available)],
      ['escrowed', credits(b.escrowed)],
    ]);
  } finally {
    await client.close();
  }
}
