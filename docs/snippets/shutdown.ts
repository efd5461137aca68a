import { Ledger, isLedgerError } from '@shardledger/shard-router';

const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data' });

// On SIGTERM (a deploy, `docker stop`, Kubernetes) and Ctrl-C: stop taking work, then close.
// close() lets the calls in flight finish, closes every shard and frees the data dir; a second
// signal while it runs gets the same close. Once nothing else is left, the process exits.
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  console.error(`${signal}: closing the ledger`);
  // server.close() would go here, so that no new request arrives.
  await ledger.close();
}
process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));

// The application's work: here, payouts until the ledger is closed under it.
await ledger.createAccounts([
  { id: 'treasury', currency: 'EUR' },
  { id: 'payouts', currency: 'EUR' },
]);
console.log('running');
for (let n = 0; ; n += 1) {
  try {
    await ledger.createTransfers([
      { id: `payout-${n}`, debitAccountId: 'treasury', creditAccountId: 'payouts', amount: 1n, currency: 'EUR' },
    ]);
  } catch (error) {
    if (isLedgerError(error, 'LEDGER_CLOSED')) break; // closed by shutdown(): stop working
    throw error;
  }
}
