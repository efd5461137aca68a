// Goal: a saga run (the saga index's batched part) finds exactly its outcomes and refuses ids that
// do not ascend. Method: encode, look up every id and ids between them.
import { describe, expect, it } from 'vitest';
import type { SagaOutcome } from '../src/index.js';
import {
  encodeSagaRun,
  findInSagaRun,
  lastIdOfSagaRun,
  sagaRunEntries,
} from '../src/storage/saga-run.js';

describe('saga runs (saga-run.ts)', () => {
  it('finds each outcome of a run, the last id, and nothing else', () => {
    const ids = Array.from(
      { length: 300 },
      (_, index) => `t-${String(index * 2).padStart(6, '0')}~AbC_-${index.toString(36)}`,
    );
    const outcomes: SagaOutcome[] = ids.map((_, index) =>
      index % 3 === 0 ? 'released' : 'committed',
    );
    const value = encodeSagaRun({ ids, outcomes });
    ids.forEach((id, index) => expect(findInSagaRun(value, id)).toBe(outcomes[index]));
    expect(findInSagaRun(value, 't-000001~AbC_-0')).toBeUndefined();
    expect(findInSagaRun(value, '')).toBeUndefined();
    expect(findInSagaRun(value, 'u')).toBeUndefined();
    expect(findInSagaRun(value, 't-000000~AbC_-0é')).toBeUndefined();
    expect(lastIdOfSagaRun(value)).toBe(ids[299]);
    expect(sagaRunEntries(new Uint8Array(value))).toEqual(
      ids.map((id, index) => [id, outcomes[index]]),
    );
  });

  it('refuses ids that do not ascend', () => {
    expect(() =>
      encodeSagaRun({ ids: ['s-2', 's-1'], outcomes: ['committed', 'committed'] }),
    ).toThrow(/ascend/);
    expect(() =>
      encodeSagaRun({ ids: ['s-1', 's-1'], outcomes: ['committed', 'released'] }),
    ).toThrow(/ascend/);
  });
});
