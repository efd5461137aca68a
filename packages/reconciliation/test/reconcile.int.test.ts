// Goal: a run against a real ledger finds every seeded break and no other, whatever the order of
// the file's lines; a second run of the same file changes nothing; resolving a break posts its
// adjustment once however often it is asked; the balance check's drift is what the breaks say.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, isLedgerError } from '@shardledger/shard-router';
import { seededRandom, tempDir } from '@shardledger/ledger-core/testing';
import { reconcile, resolveBreaks, type Report } from '../src/index.js';
import { seedScenario, settlementText, type Scenario } from './settlement-fixtures.js';

let ledger: Ledger;
let dir: string;
let cleanup: () => Promise<void>;
let scenario: Scenario;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('recon'));
  ledger = await Ledger.open({ dir: join(dir, 'ledger'), shards: 2, durability: 'relaxed' });
  scenario = await seedScenario(ledger, dir, { cleanCount: 300, seed: 7 });
});

afterAll(async () => {
  await ledger.close();
  await cleanup();
});

const seen = (report: Report) =>
  report.breaks.map((found) => `${found.type} ${found.reference}`).sort();
const shape = (report: Report) => report.breaks.map(({ lines: _lines, ...found }) => found);

describe('reconcile against a seeded ledger', () => {
  it('finds every seeded break and no other, and counts the bad lines with their numbers', async () => {
    const { report, reused } = await reconcile({
      ledger,
      file: scenario.file,
      profile: 'simulated',
      workDir: join(dir, 'runs'),
    });
    expect(reused).toBe(false);
    expect(seen(report)).toEqual(
      scenario.expected.map((found) => `${found.type} ${found.reference}`).sort(),
    );
    expect(report.settlement.badLines).toBe(2);
    expect(report.settlement.badLineSamples.map((bad) => bad.line)).toEqual(scenario.badLines);
    expect(report.matches.one_to_many).toBe(1);
    expect(report.matches.many_to_one).toBe(1);
    const byReference = new Map(report.breaks.map((found) => [found.reference, found]));
    expect(byReference.get('PO-NET')?.cause).toBe('fee_booked');
    expect(byReference.get('PO-NET')?.classification).toBe('auto');
    expect(byReference.get('PO-SHORT')?.cause).toBe('amount_differs');
    expect(byReference.get('PO-SHORT')?.classification).toBe('manual');
    expect(byReference.get('PO-VOIDED')?.cause).toBe('voided');
    expect(byReference.get('PO-UNSETTLED')?.classification).toBe('unclassified');
    expect(byReference.get('PO-TWICE')?.lines).toHaveLength(2);
    // The drift per currency is what the breaks would adjust, plus the line the PSP sent twice.
    for (const check of report.balances) {
      const adjusted = report.breaks
        .flatMap((found) => found.adjustments)
        .filter((adjustment) => adjustment.currency === check.currency)
        .reduce((total, adjustment) => total + adjustment.amount, 0n);
      const repeated = check.currency === 'USD' ? 1100n : 0n;
      expect(check.drift, check.currency).toBe(adjusted + repeated);
    }
  });

  it('refuses a missing file and malformed options before reading anything', async () => {
    const workDir = join(dir, 'refused');
    const reason = async (options: Partial<Parameters<typeof reconcile>[0]>) => {
      const error = await reconcile({
        ledger,
        file: scenario.file,
        profile: 'simulated',
        workDir,
        ...options,
      }).catch((caught: unknown) => caught);
      return isLedgerError(error, 'INVALID_ARGUMENT')
        ? (error.detail['reason'] ?? error.detail['option'])
        : error;
    };
    expect(await reason({ file: join(dir, 'nope.csv') })).toBe('FILE_NOT_FOUND');
    expect(await reason({ profile: 'nope' })).toBe('UNKNOWN_PROFILE');
    expect(await reason({ bucketCount: 0 })).toBe('bucketCount');
    expect(await reason({ threads: 1.5 })).toBe('threads');
    expect(existsSync(workDir)).toBe(false);
  });

  it('gives the same breaks for the file shuffled, and on a pool of two threads', async () => {
    const first = await reconcile({
      ledger,
      file: scenario.file,
      profile: 'simulated',
      workDir: join(dir, 'runs'),
    });
    const random = seededRandom(99);
    const lines = [...scenario.rows];
    for (let at = lines.length - 1; at > 0; at -= 1) {
      const other = Math.floor(random() * (at + 1));
      [lines[at], lines[other]] = [lines[other]!, lines[at]!];
    }
    const shuffled = join(dir, 'shuffled.csv');
    await writeFile(shuffled, settlementText(lines, { crlf: true, bom: true }));
    const again = await reconcile({
      ledger,
      file: shuffled,
      profile: 'simulated',
      workDir: join(dir, 'runs-shuffled'),
      threads: 2,
      bucketCount: 16,
    });
    expect(again.reused).toBe(false);
    expect(shape(again.report)).toEqual(shape(first.report));
    expect(again.report.settlement.badLines).toBe(2);
  });

  it('changes nothing when the same file is reconciled again', async () => {
    const workDir = join(dir, 'runs');
    const before = await ledger.info();
    const first = await reconcile({ ledger, file: scenario.file, profile: 'simulated', workDir });
    const second = await reconcile({ ledger, file: scenario.file, profile: 'simulated', workDir });
    expect(second.reused).toBe(true);
    expect(second.report).toEqual(first.report);
    const after = await ledger.info();
    expect(after.shardInfo.map((shard) => shard.lastSequence)).toEqual(
      before.shardInfo.map((shard) => shard.lastSequence),
    );
  });

  it('posts each adjustment once however often a break is resolved', async () => {
    const workDir = join(dir, 'runs');
    const { report } = await reconcile({
      ledger,
      file: scenario.file,
      profile: 'simulated',
      workDir,
    });
    const auto = await resolveBreaks({ ledger, workDir, report, auto: true });
    expect(auto.map((result) => result.status)).toEqual(['resolved', 'resolved']);
    const ids = report.breaks.map((found) => found.id);
    const all = await resolveBreaks({ ledger, workDir, report, breakIds: ids });
    const statuses = all.map((result) => result.status).sort();
    expect(statuses.filter((status) => status === 'already_resolved')).toHaveLength(2);
    expect(statuses.filter((status) => status === 'resolved')).toHaveLength(ids.length - 2);
    const again = await resolveBreaks({ ledger, workDir, report, breakIds: [...ids, 'nope'] });
    expect(again.map((result) => result.status)).toEqual([
      ...ids.map(() => 'already_resolved'),
      'not_found',
    ]);
    const adjustments = report.breaks.flatMap((found) => found.adjustments);
    const suspense = [];
    for (const currency of ['USD', 'EUR']) {
      const page = await ledger.accountHistory(`simulated-suspense-${currency}`, { limit: 100 });
      suspense.push(...page.entries);
    }
    expect(suspense).toHaveLength(adjustments.length);
    // Each adjustment moved the clearing account towards the file: the suspense account holds
    // the other side, so its balance is the sum of the adjustments in its currency.
    for (const currency of ['USD', 'EUR']) {
      const [account] = await ledger.lookupAccounts([`simulated-suspense-${currency}`]);
      const sum = adjustments
        .filter((adjustment) => adjustment.currency === currency)
        .reduce((total, adjustment) => total + adjustment.amount, 0n);
      expect(account?.balance, currency).toBe(sum);
    }
    const [posted] = await ledger.lookupTransfers([
      all.find((result) => result.transferIds.length > 0)!.transferIds[0]!,
    ]);
    expect(posted?.metadata?.['recon_break_id']).toMatch(/^[0-9a-f]{24}$/);
    const { report: reread } = await reconcile({
      ledger,
      file: scenario.file,
      profile: 'simulated',
      workDir,
    });
    expect(reread.breaks.every((found) => found.status === 'resolved')).toBe(true);
  });
});
