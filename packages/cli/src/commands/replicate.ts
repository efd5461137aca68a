// `shardledger replicate status`: the state of a replicated ledger on its NATS JetStream cluster,
// read from the cluster alone (no data dir, no lock): the process that serves it (its lease),
// and each shard's stream with its messages, last sequence, size, leader, and each replica's
// state and lag in messages.

import type { Command } from 'commander';
import { replicationStatus, type ReplicationStatus } from '@shardledger/shard-router';
import { examples, print, printJson, withJsonOption } from '../context.js';
import { formatBytes, formatFields, formatTable } from '../format.js';
import { usageError } from '../errors.js';

interface StatusOptions {
  readonly servers?: string;
  readonly name: string;
  readonly json: boolean;
}

export function registerReplicate(program: Command): void {
  const replicate = program
    .command('replicate')
    .description('the replicated log of a ledger on its NATS JetStream cluster');
  replicate.addHelpText(
    'after',
    examples(['shardledger replicate status --servers nats://n1:4222']),
  );
  const status = replicate
    .command('status')
    .description("each shard stream's messages, last sequence, leader, replicas and their lag")
    .option(
      '--servers <urls>',
      'NATS URLs, comma-separated (default: $SHARDLEDGER_NATS_SERVERS)',
      process.env['SHARDLEDGER_NATS_SERVERS'],
    )
    .option('--name <name>', 'the ledger name on the cluster (replication.name)', 'shardledger');
  withJsonOption(status);
  status.addHelpText(
    'after',
    examples([
      'shardledger replicate status --servers nats://10.0.0.1:4222,nats://10.0.0.2:4222',
      'shardledger replicate status --name payments --json | jq ".streams[].followers"',
    ]),
  );
  status.action(async (options: StatusOptions) => {
    const servers = (options.servers ?? '').split(',').filter((server) => server !== '');
    if (servers.length === 0)
      throw usageError('no NATS servers', 'pass --servers or set SHARDLEDGER_NATS_SERVERS');
    const found = await replicationStatus({ servers, name: options.name });
    if (options.json) return printJson(found);
    print(statusText(found));
  });
}

function statusText(status: ReplicationStatus): string {
  const right = true;
  const head = formatFields([
    ['name', status.name],
    ['ledger id', status.ledgerId],
    ['shards', String(status.shards)],
    [
      'served by',
      status.lease === null
        ? '(no process holds the lease)'
        : `pid ${status.lease.pid} on ${status.lease.host}, dir ${status.lease.dir}, since ${status.lease.since}`,
    ],
  ]);
  const rows = status.streams.map((stream) => [
    stream.name,
    String(stream.messages),
    String(stream.lastSeq),
    formatBytes(stream.bytes),
    String(stream.replicas),
    stream.leader ?? '(none)',
    stream.followers
      .map((peer) => `${peer.name}${peer.current ? '' : ' (behind)'} lag ${peer.lag}`)
      .join(', '),
  ]);
  const table = formatTable(
    [
      { header: 'stream' },
      { header: 'messages', right },
      { header: 'last seq', right },
      { header: 'size', right },
      { header: 'replicas', right },
      { header: 'leader' },
      { header: 'followers' },
    ],
    rows,
  );
  return `${head}\n\n${table}`;
}
