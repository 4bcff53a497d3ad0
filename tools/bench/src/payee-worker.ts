/**
 * The payee node of the ledger bench's two-thread row, in a worker thread: its own ledger and chain,
 * on the machine's other core, as a second node's credit-svc would be. It answers the payer's
 * receipts (encoded SignedReceipts, a page at a time) with them countersigned, each accepted as
 * credit-svc's AcceptReceipt does (all of a page side by side: one group commit).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeSignedReceipt, encodeSignedReceipt } from '@swarm/chain';
import { openChainLedger } from './chain-ledger';

export interface PayeeWorkerData {
  readonly dir: string;
  readonly payer: string;
}

/** Main thread → worker: a page to countersign (`id` echoes back), or `close`. */
export type PayeeRequest = { readonly id: number; readonly receipts: Uint8Array[] } | { readonly close: true };
/** Worker → main thread. */
export type PayeeReply =
  | { readonly ready: true; readonly id: string; readonly publicKey: Uint8Array }
  | { readonly id: number; readonly countersigned: Uint8Array[] }
  | { readonly id: number; readonly error: string }
  | { readonly closed: true };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('payee-worker runs as a worker thread');
  const { dir, payer } = workerData as PayeeWorkerData;
  const payee = await openChainLedger(dir, 'payee');
  port.on('message', (req: PayeeRequest) => {
    if ('close' in req) {
      void payee.ledger
        .close()
        .catch(() => undefined)
        .finally(() => port.postMessage({ closed: true } satisfies PayeeReply));
      return;
    }
    Promise.all(req.receipts.map((bytes) => payee.book.acceptReceipt({ receipt: decodeSignedReceipt(bytes), fromNodeId: payer })))
      .then((accepted) => port.postMessage({ id: req.id, countersigned: accepted.map((a) => encodeSignedReceipt(a.result)) } satisfies PayeeReply))
      .catch((err: unknown) => port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies PayeeReply));
  });
  port.postMessage({ ready: true, id: payee.id, publicKey: payee.signer.publicKey } satisfies PayeeReply);
}

void main();
