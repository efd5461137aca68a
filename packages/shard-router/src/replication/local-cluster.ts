// A real 3-node nats-server cluster with JetStream on loopback ports, each node with its own temp
// store dir: what the replication tests and `shardledger bench standard --durability replicated`
// run against. Nodes can be killed and started again; `stop` kills them and removes the dirs.
// nats-server must be on PATH (Debian: apt-get install nats-server); without it the start throws
// a clear message instead of a spawn error.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const startTimeoutMs = 15_000;

export interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly url: string;
  process: ChildProcess | undefined;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Client URLs of every node. */
  readonly servers: readonly string[];
  /** SIGKILLs node `index`; resolves once it has exited. */
  kill(index: number): Promise<void>;
  /** Starts node `index` again with its store dir; resolves once it accepts connections. */
  start(index: number): Promise<void>;
  /** Starts every node that is not running (killed, or exited); resolves once each accepts
   * connections and the cluster's JetStream answers. */
  startStopped(): Promise<void>;
  /** Kills every node and removes the dirs. */
  stop(): Promise<void>;
}

/** The nats-server binary, or a clear error saying how to install it. */
export function natsServerBinary(): string {
  const found = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (found.error !== undefined || found.status !== 0)
    throw new Error(
      'nats-server is not on PATH: a local replication cluster runs real nats-server processes ' +
        '(install it with `apt-get install -y nats-server`)',
    );
  return 'nats-server';
}

async function freePort(): Promise<number> {
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

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nats-server exited early:\n${log()}`);
    if (await portOpen(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nats-server did not listen on ${port} within ${startTimeoutMs} ms:\n${log()}`);
}

/** Resolves once the cluster has elected its JetStream meta leader (the API answers). */
async function waitForJetStream(servers: string[]): Promise<void> {
  // Loaded here, not with the module: the package's internals export this file, and an
  // application that does not replicate never loads the NATS client.
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const { connect } = await import('@nats-io/transport-node');
  const connection = await connect({ servers });
  const deadline = Date.now() + startTimeoutMs;
  try {
    for (;;) {
      try {
        const manager = await jetstreamManager(connection, { timeout: 1000 });
        await manager.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await connection.close();
  }
}

/** Writes each node's config file under `root`; returns the nodes and their config paths. */
async function writeConfigs(
  root: string,
  size: number,
): Promise<{ nodes: NatsNode[]; configs: string[] }> {
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let index = 0; index < size; index++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`);
  const nodes: NatsNode[] = clientPorts.map((clientPort, index) => ({
    name: `n${index}`,
    clientPort,
    url: `nats://127.0.0.1:${clientPort}`,
    process: undefined,
  }));
  const configs = nodes.map((node, index) => {
    const path = join(root, `${node.name}.conf`);
    const config = [
      `server_name: ${node.name}`,
      `listen: 127.0.0.1:${node.clientPort}`,
      `jetstream { store_dir: "${join(root, node.name)}" }`,
      'cluster {',
      '  name: shardledger-local',
      `  listen: 127.0.0.1:${routePorts[index]}`,
      `  routes: [${routes.filter((_, other) => other !== index).join(', ')}]`,
      '}',
    ].join('\n');
    writeFileSync(path, `${config}\n`);
    return path;
  });
  return { nodes, configs };
}

function isRunning(node: NatsNode): boolean {
  const child = node.process;
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Starts a 3-node JetStream cluster; resolves once every node accepts clients. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const binary = natsServerBinary();
  const root = await mkdtemp(join(tmpdir(), 'shardledger-nats-'));
  const { nodes, configs } = await writeConfigs(root, size);

  const start = async (index: number): Promise<void> => {
    const node = nodes[index] as NatsNode;
    let output = '';
    const child = spawn(binary, ['-c', configs[index] as string], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    node.process = child;
    await waitForPort(node.clientPort, child, () => output);
  };
  const kill = async (index: number): Promise<void> => {
    const node = nodes[index] as NatsNode;
    const child = node.process;
    if (child === undefined || !isRunning(node)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  await Promise.all(nodes.map((_, index) => start(index)));
  await waitForJetStream(nodes.map((node) => node.url));
  return {
    nodes,
    servers: nodes.map((node) => node.url),
    kill,
    async start(index) {
      await start(index);
      await waitForJetStream([(nodes[index] as NatsNode).url]);
    },
    async startStopped() {
      const stopped = nodes.flatMap((node, index) => (isRunning(node) ? [] : [index]));
      await Promise.all(stopped.map((index) => start(index)));
      await waitForJetStream(nodes.map((node) => node.url));
    },
    async stop() {
      await Promise.all(nodes.map((_, index) => kill(index)));
      await rm(root, { recursive: true, force: true });
    },
  };
}
