// The simulator's faults: the chance of each kind per scheduler step or message, drawn per seed
// (swarm testing), and the count of each kind a run struck. Pure data; the scheduler strikes them.

/** The chance of each fault per scheduler step (crashes, clock jumps) or per message. */
export interface FaultProfile {
  readonly shardCrash: number;
  readonly processCrash: number;
  readonly clockJump: number;
  readonly lostRequest: number;
  readonly lostReply: number;
  readonly duplicate: number;
  /** Per commit: the write transaction fails (IO_ERROR); the shard stops until it is reopened. */
  readonly storage: number;
}

export const noFaults: FaultProfile = {
  shardCrash: 0,
  processCrash: 0,
  clockJump: 0,
  lostRequest: 0,
  lostReply: 0,
  duplicate: 0,
  storage: 0,
};

/** Faults drawn per seed, each kind on or off (swarm testing: a seed without crashes goes
 * deeper into message faults, and the other way round). */
export function drawFaults(random: () => number): FaultProfile {
  const rate = (maximum: number): number => (random() < 0.6 ? random() * maximum : 0);
  return {
    shardCrash: rate(0.03),
    processCrash: rate(0.015),
    clockJump: rate(0.03),
    lostRequest: rate(0.1),
    lostReply: rate(0.1),
    duplicate: rate(0.1),
    storage: rate(0.05),
  };
}

export const faultKinds = [
  'shardCrash',
  'processCrash',
  'recoveryFailed',
  'lostRequest',
  'lostReply',
  'duplicate',
  'reorderedReply',
  'clockJumpForward',
  'clockJumpBackward',
  'storage',
  'quietRestart',
] as const;
export type FaultCounts = Record<(typeof faultKinds)[number], number>;

export function zeroFaults(): FaultCounts {
  return Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as FaultCounts;
}
