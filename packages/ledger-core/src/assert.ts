// Assertions in the TigerBeetle spirit: a broken invariant is a bug, so the shard stops and
// recovers from its log. Nothing catches an AssertionError and carries on.

export class AssertionError extends Error {
  readonly code = 'ASSERTION_FAILED' as const;
  readonly kind = 'bug' as const;
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertNever(value: never, what: string): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
