// Runnable entry: `node packages/bench/dist/peers-main.js [scenario] [options]` (see --help).
// The same command line as `shardledger bench`; runs the ledger and its peers, prints the table.
import { runBenchCommand } from './bench-command.js';

runBenchCommand(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  // Exit now: a failed run may leave shard workers or timers behind that would keep us alive.
  process.exit(1);
});
