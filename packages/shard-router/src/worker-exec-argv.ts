// The Node options our worker threads start with: the process's own, less those a worker
// cannot take. A worker inherits process.execArgv by default, and `--input-type` (which only
// applies to --eval or stdin input) makes every worker fail to start, so an application run as
// `node --input-type=module -e "..."` could not open a Ledger.

/** process.execArgv without `--input-type=X` or `--input-type X`. */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const arg = execArgv[index] as string;
    if (arg === '--input-type') {
      index++; // and its value
      continue;
    }
    if (arg.startsWith('--input-type=')) continue;
    kept.push(arg);
  }
  return kept;
}
