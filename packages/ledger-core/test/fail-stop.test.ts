// Goal: once a shard has failed, a write that was queued behind the failed one and then rejects
// too is not an unhandled rejection (it would crash the shard's thread, and every call in flight
// would get SHARD_UNAVAILABLE instead of the failure). Method: a FailStop failed first, then raced
// with a promise that rejects later, with a process-wide listener for unhandled rejections.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LedgerError } from '../src/index.js';
import { FailStop } from '../src/storage/fail-stop.js';

const unhandled: unknown[] = [];
const listener = (reason: unknown): void => void unhandled.push(reason);

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', listener);
});
afterEach(() => void process.off('unhandledRejection', listener));

/** Lets pending rejections be reported (they are, after a turn of the event loop). */
const turns = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('FailStop.race', () => {
  it('answers the recorded failure and leaves no unhandled rejection of a later write', async () => {
    const stop = new FailStop();
    const full = new LedgerError('STORAGE_FULL', { dir: '/x' });
    stop.fail(full);
    let rejectWrite: (error: Error) => void = () => undefined;
    const write = new Promise<void>((_resolve, reject) => {
      rejectWrite = reject;
    });
    await expect(stop.race(write)).rejects.toBe(full);
    rejectWrite(new Error('Commit failed'));
    await turns();
    expect(unhandled).toEqual([]);
  });

  it('rejects a race in progress with the failure once it is recorded', async () => {
    const stop = new FailStop();
    const raced = stop.race(new Promise<void>(() => undefined));
    const full = new LedgerError('STORAGE_FULL', { dir: '/x' });
    stop.fail(full);
    await expect(raced).rejects.toBe(full);
    await turns();
    expect(unhandled).toEqual([]);
  });
});
