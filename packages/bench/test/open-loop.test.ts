// Goal: the open-loop scheduler's arithmetic is right: sends on a fixed schedule, all overdue
// sends at once when the sender falls behind, latency from the scheduled time (coordinated
// omission corrected). Method: the pure functions, with hand-computed times.
import { describe, expect, it } from 'vitest';
import { correctedLatencyMs, dueSendCount, planOpenLoop, scheduledSendMs } from '../src/index.js';

describe('open-loop scheduler', () => {
  it('spaces sends by batch size over offered rate and fits them in the window', () => {
    const plan = planOpenLoop({ offeredTps: 10_000, batchSize: 500, durationMs: 1000 });
    expect(plan.intervalMs).toBe(50);
    expect(plan.sendCount).toBe(20);
    expect(scheduledSendMs(plan, 1000, 0)).toBe(1000);
    expect(scheduledSendMs(plan, 1000, 7)).toBe(1350);
  });

  it('refuses rates that need a send more often than a timer can fire', () => {
    expect(() => planOpenLoop({ offeredTps: 1_000_000, batchSize: 100, durationMs: 1000 })).toThrow(
      /use larger batches/,
    );
    expect(() => planOpenLoop({ offeredTps: 0, batchSize: 100, durationMs: 1000 })).toThrow(
      /must be > 0/,
    );
  });

  it('makes every overdue send due at once after a stall, and never more than the plan', () => {
    const plan = planOpenLoop({ offeredTps: 1000, batchSize: 10, durationMs: 100 }); // every 10 ms, 10 sends
    expect(dueSendCount(plan, { startMs: 0, nowMs: -1, sentCount: 0 })).toBe(0);
    expect(dueSendCount(plan, { startMs: 0, nowMs: 0, sentCount: 0 })).toBe(1);
    expect(dueSendCount(plan, { startMs: 0, nowMs: 9.9, sentCount: 1 })).toBe(0);
    expect(dueSendCount(plan, { startMs: 0, nowMs: 45, sentCount: 1 })).toBe(4); // sends 1..4 at 10..40 ms
    expect(dueSendCount(plan, { startMs: 0, nowMs: 10_000, sentCount: 5 })).toBe(5);
    expect(dueSendCount(plan, { startMs: 0, nowMs: 10_000, sentCount: 10 })).toBe(0);
  });

  it('charges a stall to every send that fell due during it', () => {
    const plan = planOpenLoop({ offeredTps: 1000, batchSize: 10, durationMs: 100 });
    // The ledger stalls from 0 to 50 ms; sends 0..5 (due 0..50 ms) all complete at 51 ms.
    const latencies = [0, 1, 2, 3, 4, 5].map((index) =>
      correctedLatencyMs({ scheduledMs: scheduledSendMs(plan, 0, index), completedMs: 51 }),
    );
    expect(latencies).toEqual([51, 41, 31, 21, 11, 1]);
    // A closed-loop driver would have sent one call and reported 51 ms once: one sample, not six.
  });
});
