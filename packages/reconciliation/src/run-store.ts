// A run's directory: `<workDir>/<runId>/` holds run.json (inputs and each finished phase), the
// bucket files of both sides, one result file per matched bucket, bad-lines.jsonl and, once the
// run is done, report.json. Every file is written whole (temporary file, then rename), so a
// process killed at any moment leaves a directory a resume can trust: a phase whose summary is in
// run.json is done, a bucket whose result file exists is matched; anything else is redone.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeJson, readJsonFile, writeFileAtomic } from './codec.js';
import type { BucketResult } from './match.js';
import type { Report, RunInputs, RunRecord } from './run-types.js';

export async function fileDigest(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const { size } = await stat(path);
  return { sha256: hash.digest('hex'), sizeBytes: size };
}

/** The run id: a hash of the file's content and every input that changes the result, so the same
 * file reconciled the same way is the same run (and a second run of it changes nothing). */
export function runIdOf(inputs: RunInputs): string {
  const { file: _path, ...rest } = inputs;
  return createHash('sha256').update(encodeJson(rest)).digest('hex').slice(0, 20);
}

export class RunStore {
  readonly dir: string;

  constructor(workDir: string, runId: string) {
    this.dir = join(workDir, runId);
  }

  async create(): Promise<void> {
    await mkdir(join(this.dir, 'results'), { recursive: true });
  }

  readRecord(): Promise<RunRecord | undefined> {
    return readJsonFile<RunRecord>(join(this.dir, 'run.json'));
  }

  writeRecord(record: RunRecord): Promise<void> {
    return writeFileAtomic(join(this.dir, 'run.json'), encodeJson(record));
  }

  readReport(): Promise<Report | undefined> {
    return readJsonFile<Report>(join(this.dir, 'report.json'));
  }

  writeReport(report: Report): Promise<void> {
    return writeFileAtomic(join(this.dir, 'report.json'), encodeJson(report));
  }

  resultPath(bucket: number): string {
    return join(this.dir, 'results', `bucket-${String(bucket).padStart(4, '0')}.json`);
  }

  readResult(bucket: number): Promise<BucketResult | undefined> {
    return readJsonFile<BucketResult>(this.resultPath(bucket));
  }

  get badLinesPath(): string {
    return join(this.dir, 'bad-lines.jsonl');
  }
}
