// `shardledger export [--out FILE]`: every shard's event log as NDJSON, for audit. One line per
// event: {"shard":0,"sequence":1,"type":"AccountCreated","timestamp":"…",…}, bigints as decimal
// strings. Shards in order, each in sequence order. With --out the file appears only when complete.

import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { Ledger } from '@shardledger/shard-router';
import { examples, withDirOption, withLedger, type CommonOptions } from '../context.js';
import { toJson } from '../format.js';
import { createStatusLine } from '../progress.js';

interface ExportOptions extends Omit<CommonOptions, 'json'> {
  readonly out?: string;
}

/** Events read per readEvents call. */
const exportPageSize = 1_000;

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description('write every event of every shard as NDJSON (to stdout, or --out FILE)')
    .option(
      '-o, --out <file>',
      'write to this file (created complete or not at all) instead of stdout',
    );
  withDirOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger export > events.ndjson',
      'shardledger export --out /backups/ledger-2025-01-31.ndjson',
      'shardledger export | jq -c "select(.type == \\"TransferCreated\\")"',
    ]),
  );
  command.action(async (options: ExportOptions) => {
    const { out } = options;
    await withLedger(options.dir, (ledger) =>
      out === undefined ? writeEvents(ledger, process.stdout) : exportToFile(ledger, out),
    );
  });
}

/** Writes a temp file next to `out` and renames it when complete: never a partial export. */
async function exportToFile(ledger: Ledger, out: string): Promise<number> {
  const tmpPath = `${out}.${process.pid}.tmp`;
  const file = createWriteStream(tmpPath, { flags: 'wx' });
  await once(file, 'open');
  try {
    const count = await writeEvents(ledger, file);
    file.end();
    await once(file, 'finish');
    await rename(tmpPath, out);
    process.stderr.write(`exported ${count.toLocaleString('en-US')} events to ${out}\n`);
    return count;
  } catch (error) {
    file.destroy();
    await rm(tmpPath, { force: true });
    throw error;
  }
}

async function writeEvents(ledger: Ledger, out: Writable): Promise<number> {
  const status = createStatusLine();
  let count = 0;
  try {
    for (let shard = 0; shard < ledger.shards; shard += 1) {
      let after = 0;
      for (;;) {
        const page = await ledger.readEvents(shard, after, exportPageSize);
        let chunk = '';
        for (const { sequence, event } of page)
          chunk += `${toJson({ shard, sequence, ...event }, 0)}\n`;
        if (chunk !== '' && !out.write(chunk)) await once(out, 'drain');
        count += page.length;
        status.update(
          `exporting shard ${shard + 1}/${ledger.shards}: ${count.toLocaleString('en-US')} events`,
        );
        const last = page[page.length - 1];
        if (last === undefined || page.length < exportPageSize) break;
        after = last.sequence;
      }
    }
  } finally {
    status.done();
  }
  return count;
}
