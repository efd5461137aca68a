// How our worker threads start. A worker started from a file inherits the process's Node
// options, and `--input-type` among them (it applies to --eval and stdin input only) stops it
// from starting, so an application run as `node --input-type=module -e "..."` could not open a
// Ledger. Handing the worker an explicit execArgv without that flag is no way out: Node refuses
// V8 and per-process flags there (ERR_WORKER_INVALID_EXEC_ARGV), so an application started with
// `--max-old-space-size=4096` or `--expose-gc` could then not open one. So the worker is started
// from a one-line string instead, which imports the worker module: string input is what
// --input-type is for, `import()` is valid in either kind, and the options are inherited as
// Node does by default.

/** The source of a worker (started with `eval: true`) that loads the module at `moduleUrl`. */
export function workerSource(moduleUrl: string): string {
  return `import(${JSON.stringify(moduleUrl)});`;
}
