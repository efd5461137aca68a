// Goal: the bench's CPU-by-thread line reads what the threads really spent. Method: burn 300 ms
// of CPU (by process.cpuUsage, so a shared machine's waits do not count) on the main thread
// between begin and the read, and compare the line's figures with process.cpuUsage's.
import { describe, expect, it } from 'vitest';
import { ThreadCpu } from '../src/thread-cpu.js';

describe('ThreadCpu', () => {
  it('charges the threads with the CPU they spent, per transfer', () => {
    const cpu = new ThreadCpu();
    cpu.begin();
    const start = process.cpuUsage();
    const spentUs = (): number => {
      const used = process.cpuUsage(start);
      return used.user + used.system;
    };
    let spin = 0;
    while (spentUs() < 300_000) spin += 1;
    expect(spin).toBeGreaterThan(0);
    const totalUs = spentUs();
    const line = cpu.perTransfer(1_000);
    expect(line).not.toBeNull();
    const main = Number(/^main ([\d.]+),/.exec(line as string)?.[1]);
    const all = Number(/all threads ([\d.]+)$/.exec(line as string)?.[1]);
    // Per transfer over 1,000 transfers: the process's CPU / 1,000, within the 10 ms ticks of
    // each thread; most of it on the main thread, which spun.
    expect(Math.abs(all - totalUs / 1_000)).toBeLessThan(100);
    expect(main).toBeGreaterThan(totalUs / 1_000 / 2);
    expect(all).toBeGreaterThanOrEqual(main);
  });
});
