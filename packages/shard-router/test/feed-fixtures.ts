// Helpers of the change feed tests: transfers written between a set of accounts (some across
// shards, every eleventh a hold), and a feed read to its end.
// Method: each helper drives a real Ledger; nothing is stubbed.
import { expect } from 'vitest';
import type { ChangeEvent, Ledger } from '../src/index.js';

/** `count` transfers `prefix-N` between `accounts` (pairs that name one account twice are left
 * out), every one of them accepted. */
export async function writeTransfers(
  ledger: Ledger,
  prefix: string,
  accounts: readonly string[],
  count: number,
): Promise<void> {
  const transfers = Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index}`,
    debitAccountId: accounts[index % accounts.length] as string,
    creditAccountId: accounts[(index * 3 + 1) % accounts.length] as string,
    amount: BigInt(1 + (index % 17)),
    currency: 'USD',
    pending: index % 11 === 0,
  })).filter((transfer) => transfer.debitAccountId !== transfer.creditAccountId);
  const results = await ledger.createTransfers(transfers);
  expect(results.every((result) => result.status === 'ok')).toBe(true);
}

/** Every event a feed hands out until it ends. */
export async function collect(feed: AsyncIterable<ChangeEvent>): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  for await (const change of feed) events.push(change);
  return events;
}
