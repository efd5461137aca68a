// Goal: the bench's CPU-by-thread line reads what the threads really spent. Method: burn about
// 300 ms of CPU on the main thread between begin and the read, and parse the line back.
import { describe, expect, it } from 'vitest';
import { ThreadCpu } from '../src/thread-cpu.js';

describe('ThreadCpu', () => {
  it('charges the main thread with the CPU it burned, per transfer', () => {
    const cpu = new ThreadCpu();
    cpu.begin();
    const until = performance.now() + 300;
    let spin = 0;
    while (performance.now() < until) spin += 1;
    expect(spin).toBeGreaterThan(0);
    const line = cpu.perTransfer(1_000);
    expect(line).not.toBeNull();
    const main = Number(/^main ([\d.]+),/.exec(line as string)?.[1]);
    const all = Number(/all threads ([\d.]+)$/.exec(line as string)?.[1]);
    // 300 ms over 1,000 transfers is 300 µs each; ticks are 10 ms and the machine is shared.
    expect(main).toBeGreaterThan(150);
    expect(all).toBeGreaterThanOrEqual(main);
  });
});
