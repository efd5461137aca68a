// The simulated PSP's rules: match -> action, first match wins, as a rule-driven fake bank
// works. A rule may apply only a number of times or with a probability drawn from the seeded
// generator, so one seed replays one run.

export const simOperations = ['authorize', 'capture', 'void', 'refund', 'payout'] as const;
export type SimOperation = (typeof simOperations)[number];

export const simActions = [
  'succeed',
  'decline',
  'timeout',
  'delay',
  'success_after_timeout',
  'partial_capture',
  'fail',
] as const;
export type SimAction = (typeof simActions)[number];

export interface SimRule {
  readonly match: {
    readonly operation?: SimOperation;
    /** The merchant reference, exact, or a prefix when it ends with `*`. */
    readonly reference?: string;
    /** Minor units, as decimal digits. */
    readonly amount?: string;
    readonly currency?: string;
  };
  readonly action: SimAction;
  /** delay, timeout, success_after_timeout: how long the answer waits (default 5,000 ms). */
  readonly delayMs?: number;
  /** partial_capture: the share captured, 1 to 99 (default 50). */
  readonly capturePercent?: number;
  /** How the webhooks of a matched call are sent: twice, or the authorization's after the
   * capture's (out of order), or not at all. */
  readonly webhooks?: 'normal' | 'duplicate' | 'out_of_order' | 'none';
  /** Apply at most this many times. */
  readonly times?: number;
  /** Apply with this probability (0 to 1), drawn from the seeded generator. */
  readonly probability?: number;
}

/** mulberry32: a small seeded generator, good enough for a simulator's choices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SimCall {
  readonly operation: SimOperation;
  readonly reference: string;
  readonly amount: bigint;
  readonly currency: string;
}

function referenceMatches(pattern: string | undefined, reference: string): boolean {
  if (pattern === undefined) return true;
  if (pattern.endsWith('*')) return reference.startsWith(pattern.slice(0, -1));
  return pattern === reference;
}

/** Picks the rule for a call and counts its use; undefined means plain success. */
export class RuleBook {
  #rules: SimRule[] = [];
  #uses: number[] = [];
  readonly #random: () => number;

  constructor(options: { seed: number; rules: readonly SimRule[] }) {
    this.#random = seededRandom(options.seed);
    this.replace(options.rules);
  }

  replace(rules: readonly SimRule[]): void {
    for (const rule of rules) {
      if (!simActions.includes(rule.action)) throw new Error(`unknown action ${rule.action}`);
    }
    this.#rules = [...rules];
    this.#uses = rules.map(() => 0);
  }

  pick(call: SimCall): SimRule | undefined {
    for (const [index, rule] of this.#rules.entries()) {
      const { match } = rule;
      if (match.operation !== undefined && match.operation !== call.operation) continue;
      if (!referenceMatches(match.reference, call.reference)) continue;
      if (match.amount !== undefined && match.amount !== call.amount.toString()) continue;
      if (match.currency !== undefined && match.currency !== call.currency) continue;
      if (rule.times !== undefined && this.#uses[index]! >= rule.times) continue;
      if (rule.probability !== undefined && this.#random() >= rule.probability) continue;
      this.#uses[index]! += 1;
      return rule;
    }
    return undefined;
  }

  /** A delay in [0, maxMs), from the seeded generator. */
  jitterMs(maxMs: number): number {
    return Math.floor(this.#random() * maxMs);
  }
}
