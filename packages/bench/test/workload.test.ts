// Goal: the generated workload is deterministic and well-formed. Method: generate small workloads
// and check every transfer.
import { describe, expect, it } from 'vitest';
import {
  generateWorkload,
  hashShardOf,
  totalAmountOf,
  transferIdOf,
  transfersOf,
} from '../src/index.js';

describe('generateWorkload', () => {
  it('gives the same transfers for the same seed and different ones for another seed', () => {
    const options = { seed: 7, accountCount: 100, transferCount: 1000, batchSize: 64 };
    const first = generateWorkload(options);
    const again = generateWorkload(options);
    const other = generateWorkload({ ...options, seed: 8 });
    expect(again.batches).toEqual(first.batches);
    expect(other.batches).not.toEqual(first.batches);
  });

  it('cuts small batches from blocks: one-transfer batches are the standard batches transfer by transfer', () => {
    const options = {
      seed: 5,
      accountCount: 50,
      transferCount: 8190 + 100,
      shardOf: hashShardOf(2),
    };
    const standard = generateWorkload(options);
    const single = generateWorkload({ ...options, batchSize: 1 });
    const sevens = generateWorkload({ ...options, batchSize: 7 });
    expect(single.batchCount).toBe(8190 + 100);
    let cross = 0;
    for (const unit of [0, 1, 4_000, 8_189, 8_190, 8_289]) {
      const whole = standard.batch(Math.floor(unit / 8190));
      const item = unit % 8190;
      const batch = single.batch(unit);
      expect(batch.index).toBe(unit);
      expect([...batch.ids]).toEqual([whole.ids[item]]);
      expect([batch.debit[0], batch.credit[0], batch.amount[0]]).toEqual([
        whole.debit[item],
        whole.credit[item],
        whole.amount[item],
      ]);
    }
    for (const batch of single.batches) cross += batch.crossShardCount;
    expect(cross).toBe(standard.batches.reduce((sum, batch) => sum + batch.crossShardCount, 0));
    expect(cross).toBeGreaterThan(0);
    // 8,190 is 1,170 batches of 7: a block holds them all, and the last batch is cut short.
    expect(sevens.batches.flatMap((batch) => [...batch.ids])).toEqual(
      standard.batches.flatMap((batch) => [...batch.ids]),
    );
    expect(sevens.batch(sevens.batchCount - 1).ids.length).toBe(2);
  });

  it('never pairs an account with itself and keeps amounts in 1..1000', () => {
    const workload = generateWorkload({
      seed: 1,
      accountCount: 3,
      transferCount: 5000,
      batchSize: 100,
    });
    for (const batch of workload.batches) {
      for (let item = 0; item < batch.ids.length; item++) {
        expect(batch.debit[item]).not.toBe(batch.credit[item]);
        expect(batch.amount[item]).toBeGreaterThanOrEqual(1);
        expect(batch.amount[item]).toBeLessThanOrEqual(1000);
      }
    }
  });

  it('cuts batches of the requested size with unique, time-ordered ids', () => {
    const workload = generateWorkload({
      seed: 3,
      accountCount: 10,
      transferCount: 8190 * 2 + 5,
      runId: 'r1',
      ids: 'ordered',
    });
    expect(workload.batches.map((batch) => batch.ids.length)).toEqual([8190, 8190, 5]);
    const ids = workload.batches.flatMap((batch) => [...batch.ids]);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toBe('t-r1-0000000001');
    expect(ids.every((id, counter) => id === transferIdOf('r1', counter))).toBe(true);
    const transfers = transfersOf(workload, workload.batches[2]!);
    expect(transfers[0]).toMatchObject({
      id: 't-r1-0000016381',
      amount: BigInt(workload.batches[2]!.amount[0]!),
      currency: 'USD',
    });
    const batch = workload.batches[1]!;
    expect(
      transfersOf(workload, batch).every(
        (transfer, item) =>
          transfer.id === batch.ids[item] && transfer.amount === BigInt(batch.amount[item]!),
      ),
    ).toBe(true);
  });

  it('respects the cross-shard ratio', () => {
    const shardOf = hashShardOf(4);
    for (const ratio of [0, 0.1, 0.5, 1]) {
      const workload = generateWorkload({
        seed: 11,
        accountCount: 1000,
        transferCount: 20_000,
        pairs: 'co-located',
        crossShardRatio: ratio,
        shardOf,
      });
      let crossed = 0;
      for (const batch of workload.batches) {
        for (let item = 0; item < batch.ids.length; item++) {
          if (
            shardOf(workload.accountIds[batch.debit[item]!]!) !==
            shardOf(workload.accountIds[batch.credit[item]!]!)
          )
            crossed++;
        }
      }
      expect(crossed).toBe(workload.crossShardCount);
      expect(Math.abs(crossed / 20_000 - ratio)).toBeLessThan(0.015);
    }
  });

  it('draws uniform pairs from all accounts, so they cross shards as hashing spreads them', () => {
    for (const shards of [1, 2, 4]) {
      const shardOf = hashShardOf(shards);
      const workload = generateWorkload({
        seed: 13,
        accountCount: 1000,
        transferCount: 20_000,
        shardOf,
      });
      expect(workload.pairs).toBe('uniform');
      let crossed = 0;
      for (const batch of workload.batches) {
        for (let item = 0; item < batch.ids.length; item++) {
          expect(batch.debit[item]).not.toBe(batch.credit[item]);
          if (
            shardOf(workload.accountIds[batch.debit[item]!]!) !==
            shardOf(workload.accountIds[batch.credit[item]!]!)
          )
            crossed++;
        }
      }
      expect(crossed).toBe(workload.crossShardCount);
      // Two accounts drawn at random share a shard about once in `shards`.
      expect(Math.abs(crossed / 20_000 - (1 - 1 / shards))).toBeLessThan(0.03);
    }
  });

  it('sends random UUIDv4 ids by default: well-formed, unique, deterministic, in no order', () => {
    const options = { seed: 17, accountCount: 100, transferCount: 20_000, batchSize: 1000 };
    const ids = generateWorkload(options).batches.flatMap((batch) => [...batch.ids]);
    expect(
      ids.every((id) =>
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id),
      ),
    ).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(generateWorkload(options).batch(7).ids).toEqual(generateWorkload(options).batch(7).ids);
    const ascending = ids.filter(
      (id, index) => index > 0 && id > (ids[index - 1] as string),
    ).length;
    expect(Math.abs(ascending / ids.length - 0.5)).toBeLessThan(0.02);
  });

  it('sends prefixed ids: one prefix, then the UUIDv4 that uuidv4 would send, with the same pairs', () => {
    const options = { seed: 23, accountCount: 100, transferCount: 5_000, batchSize: 1000 };
    const prefixed = generateWorkload({ ...options, ids: 'prefixed' });
    const plain = generateWorkload(options);
    for (const index of [0, 4]) {
      const batch = prefixed.batch(index);
      expect(batch.ids).toEqual(plain.batch(index).ids.map((id) => `payment-${id}`));
      expect(batch.debit).toEqual(plain.batch(index).debit);
    }
  });

  it('sends UUIDv7 ids that ascend with the transfer counter, and the same pairs whatever the ids', () => {
    const options = { seed: 19, accountCount: 100, transferCount: 20_000, batchSize: 1000 };
    const v7 = generateWorkload({ ...options, ids: 'uuidv7' });
    const ids = v7.batches.flatMap((batch) => [...batch.ids]);
    expect(
      ids.every((id) =>
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id),
      ),
    ).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const v4 = generateWorkload(options);
    expect(v7.batch(3).debit).toEqual(v4.batch(3).debit);
    expect(v7.batch(3).credit).toEqual(v4.batch(3).credit);
  });

  it('skews debit accounts with a Zipf exponent', () => {
    const workload = generateWorkload({
      seed: 5,
      accountCount: 1000,
      transferCount: 20_000,
      hotExponent: 1.1,
    });
    const counts = new Map<number, number>();
    for (const batch of workload.batches)
      for (const debit of batch.debit) counts.set(debit, (counts.get(debit) ?? 0) + 1);
    const top = Math.max(...counts.values());
    expect(top / 20_000).toBeGreaterThan(0.1); // uniform would be 0.001
    expect(totalAmountOf(workload.batches)).toBeGreaterThan(0n);
  });
});
