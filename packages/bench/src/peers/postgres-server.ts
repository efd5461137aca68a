// A throw-away PostgreSQL server for the bench: initdb into a temp dir, start on 127.0.0.1 with a
// free port and the unix socket in the temp dir, fsync on. As root (initdb refuses root) every
// server command runs as the `postgres` OS user through runuser. The server is always stopped and
// the directory deleted: on stop(), on process exit and on SIGINT/SIGTERM.

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const postgresBinDirDefault = '/usr/lib/postgresql/15/bin';
const startTimeoutS = 30;
const serverOsUser = 'postgres';

export interface PgConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

export interface PgServer {
  readonly connection: PgConnection;
  readonly dir: string;
  stop(): void;
}

export type StartPostgres = { ok: true; server: PgServer } | { ok: false; reason: string };

type OsUser = { name: string; uid: number; gid: number };
type RunTool = (tool: string, args: string[]) => void;

export async function startPostgres(options: {
  binDir?: string;
  synchronousCommit: boolean;
}): Promise<StartPostgres> {
  const binDir = options.binDir ?? postgresBinDirDefault;
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(binDir, tool))) return { ok: false, reason: `no ${tool} in ${binDir}` };
  }
  const asUser = osUserFor();
  if (asUser === undefined)
    return {
      ok: false,
      reason: `running as root and there is no '${serverOsUser}' OS user to run initdb`,
    };
  const dir = mkdtempSync(join(tmpdir(), 'shardledger-pg-'));
  const data = join(dir, 'data');
  const run = toolRunner(binDir, asUser, dir);
  const server = { started: false };
  const stop = stopperOf(run, { dir, data, server });
  try {
    if (asUser !== null) chownSync(dir, asUser.uid, asUser.gid);
    initCluster(run, data);
    const port = await freePort();
    server.started = true;
    startServer(run, { dir, data, port, synchronousCommit: options.synchronousCommit });
    return {
      ok: true,
      server: {
        connection: { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' },
        dir,
        stop,
      },
    };
  } catch (error) {
    stop();
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return {
      ok: false,
      reason: `could not start PostgreSQL: ${stderr !== undefined && stderr !== '' ? stderr : String(error)}`,
    };
  }
}

/** Runs a server tool in `dir`, as `asUser` through runuser when given. */
function toolRunner(binDir: string, asUser: OsUser | null, dir: string): RunTool {
  return (tool, args) => {
    const command =
      asUser === null
        ? [join(binDir, tool), ...args]
        : ['runuser', '-u', asUser.name, '--', join(binDir, tool), ...args];
    execFileSync(command[0] as string, command.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: dir,
    });
  };
}

/** The server's stop(), registered at once for process exit, SIGINT and SIGTERM: stops the
 * server when it was started and deletes the directory, once. */
function stopperOf(
  run: RunTool,
  spec: { dir: string; data: string; server: { started: boolean } },
): () => void {
  const { dir, data, server } = spec;
  const stop = (): void => {
    process.off('exit', stop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      if (server.started) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already gone: nothing to stop
    } finally {
      server.started = false;
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    stop();
    process.kill(process.pid, signal);
  };
  process.on('exit', stop);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return stop;
}

function initCluster(run: RunTool, data: string): void {
  // --no-sync only skips syncing initdb's own files; the server below runs with fsync=on.
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
}

/** pg_ctl start on 127.0.0.1:port, the socket in `dir`, fsync on; waits until it accepts. */
function startServer(
  run: RunTool,
  spec: { dir: string; data: string; port: number; synchronousCommit: boolean },
): void {
  const serverOptions = [
    `-p ${spec.port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${spec.dir}`,
    '-c fsync=on',
    `-c synchronous_commit=${spec.synchronousCommit ? 'on' : 'off'}`,
    '-c full_page_writes=on',
    '-c max_connections=100',
    '-c shared_buffers=256MB',
  ].join(' ');
  run('pg_ctl', [
    '-D',
    spec.data,
    '-l',
    join(spec.dir, 'server.log'),
    '-w',
    '-t',
    String(startTimeoutS),
    '-o',
    serverOptions,
    'start',
  ]);
}

/** null: run tools directly; undefined: root without a usable user; else the user to run as. */
function osUserFor(): OsUser | null | undefined {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', serverOsUser]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', serverOsUser]).toString().trim());
    return { name: serverOsUser, uid, gid };
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
