// Goal: currency codes name their scale (ISO 4217 from Intl, or 'CODE/SCALE'), decimal text is
// parsed and formatted exactly, and accounts keep their scale through the log and snapshots,
// older ones without it included. Method: pure calls, and a real ShardEngine in a temp dir.
import { afterEach, describe, expect, it } from 'vitest';
import {
  currencyScale,
  formatAmount,
  isLedgerError,
  limits,
  parseAccount,
  parseAmount,
  ShardEngine,
  type AccountSpec,
  type ErrorCode,
} from '../src/index.js';
import { decodeEventRecord, evolve, initialState } from '../src/internals.js';
import { encodeEventRecord } from '../src/storage/event-record.js';
import { captureState, restoreState } from '../src/storage/snapshot-store.js';
import { tempDirs, TestClock } from './fixtures/engine-fixtures.js';

function codeOfThrow(run: () => unknown): ErrorCode | 'none' {
  try {
    run();
  } catch (error) {
    if (isLedgerError(error)) return error.code;
    throw error;
  }
  return 'none';
}

describe('currencyScale', () => {
  it('reads ISO 4217 scales from Intl: KWD 3, USD 2, KRW 0, JPY 0', () => {
    expect(currencyScale('KWD')).toBe(3);
    expect(currencyScale('USD')).toBe(2);
    expect(currencyScale('KRW')).toBe(0);
    expect(currencyScale('JPY')).toBe(0);
  });

  it('reads the scale of any other asset from its code', () => {
    expect(currencyScale('USDC/6')).toBe(6);
    expect(currencyScale('PTS/0')).toBe(0);
    expect(currencyScale('WEI_TOKEN/18')).toBe(18);
  });

  it('refuses a plain code that names no ISO currency rather than guessing two decimals', () => {
    // Intl itself answers 2 for any well-formed three-letter code, known or not.
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency: 'PTS' });
    expect(digits.resolvedOptions().maximumFractionDigits).toBe(2);
    expect(codeOfThrow(() => currencyScale('PTS'))).toBe('CURRENCY_UNKNOWN');
    expect(codeOfThrow(() => currencyScale('USDC'))).toBe('CURRENCY_UNKNOWN');
  });

  it('bounds scales so that 2^128-1 minor units still hold 10^20 major units', () => {
    expect(limits.currencyScaleMax).toBe(18);
    expect(10n ** BigInt(limits.currencyScaleMax + 20)).toBeLessThan((1n << 128n) - 1n);
  });

  it('refuses malformed codes and scales out of bounds', () => {
    for (const code of ['usd', '', 'USDC/', 'USDC/19', 'USDC/06', 'USDC/-1', 'A/B', 'X'.repeat(13)])
      expect(
        codeOfThrow(() => currencyScale(code)),
        code,
      ).toBe('INVALID_CURRENCY');
  });
});

describe('parseAmount', () => {
  it('turns decimal text into exact minor units for the currency scale', () => {
    expect(parseAmount('1.500', 'KWD')).toBe(1500n);
    expect(parseAmount('1000', 'KRW')).toBe(1000n);
    expect(parseAmount('12.3', 'USD')).toBe(1230n);
    expect(parseAmount('0.000001', 'USDC/6')).toBe(1n);
    expect(parseAmount('007', 'PTS/0')).toBe(7n);
    expect(parseAmount('2.5', 6)).toBe(2_500_000n);
    expect(parseAmount('0', 'USD')).toBe(0n);
  });

  it('refuses an amount finer than the scale instead of rounding it', () => {
    expect(codeOfThrow(() => parseAmount('1.001', 'USD'))).toBe('AMOUNT_TOO_PRECISE');
    expect(codeOfThrow(() => parseAmount('1.5', 'KRW'))).toBe('AMOUNT_TOO_PRECISE');
    expect(codeOfThrow(() => parseAmount('1.500', 'USD'))).toBe('AMOUNT_TOO_PRECISE');
  });

  it('refuses malformed text, a sign where none is allowed, and values above 2^128-1', () => {
    for (const text of ['', '.5', '1.', '1,5', '1e3', '+1', ' 1', '1 ', '0x10', '١', '1.2.3'])
      expect(
        codeOfThrow(() => parseAmount(text, 'USD')),
        text,
      ).toBe('INVALID_AMOUNT');
    expect(codeOfThrow(() => parseAmount('-1.00', 'USD'))).toBe('INVALID_AMOUNT');
    expect(parseAmount('-1.05', 'USD', { signed: true })).toBe(-105n);
    const max = ((1n << 128n) - 1n).toString();
    expect(parseAmount(max, 0)).toBe((1n << 128n) - 1n);
    expect(codeOfThrow(() => parseAmount(`${max}0`, 0))).toBe('INVALID_AMOUNT');
    expect(codeOfThrow(() => parseAmount('1', 'USDC'))).toBe('CURRENCY_UNKNOWN');
    expect(codeOfThrow(() => parseAmount('1', 19))).toBe('INVALID_ARGUMENT');
  });
});

describe('formatAmount', () => {
  it('prints minor units with exactly the scale of decimals', () => {
    expect(formatAmount(1500n, 'KWD')).toBe('1.500');
    expect(formatAmount(1000n, 'KRW')).toBe('1000');
    expect(formatAmount(-5n, 'USD')).toBe('-0.05');
    expect(formatAmount(0n, 'USD')).toBe('0.00');
    expect(formatAmount(1n, 'USDC/6')).toBe('0.000001');
    expect(formatAmount(123n, 0)).toBe('123');
  });
});

describe('account scale', () => {
  const dirs = tempDirs('currency-');
  afterEach(() => dirs.cleanup());

  it('records the scale on account creation and refuses a code without one', () => {
    const parsed = parseAccount({ id: 'a', currency: 'KWD' });
    expect(parsed).toMatchObject({ ok: true, value: { currency: 'KWD', scale: 3 } });
    expect(parseAccount({ id: 'a', currency: 'USDC/6' })).toMatchObject({
      value: { currency: 'USDC/6', scale: 6 },
    });
    expect(parseAccount({ id: 'a', currency: 'USDC' })).toMatchObject({
      ok: false,
      code: 'CURRENCY_UNKNOWN',
    });
    expect(parseAccount({ id: 'a', currency: 'USDC/19' })).toMatchObject({
      ok: false,
      code: 'INVALID_CURRENCY',
    });
  });

  it('keeps the scale through lookupAccounts, a reopen from the log and one from a snapshot', async () => {
    const dir = await dirs.make();
    const clock = new TestClock();
    const accounts = ['KWD', 'KRW', 'USDC/6'].map((currency, index) => {
      const parsed = parseAccount({ id: `acct-${index}`, currency });
      if (!parsed.ok) throw new Error(parsed.code);
      return { type: 'CreateAccount' as const, account: parsed.value };
    });
    const ids = ['acct-0', 'acct-1', 'acct-2'];
    let engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0, clock: clock.read });
    await engine.submit(accounts);
    const scales = async (): Promise<(number | undefined)[]> =>
      (await engine.lookupAccounts(ids)).map((view) => view?.scale);
    expect(await scales()).toEqual([3, 0, 6]);
    await engine.close();
    engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0, clock: clock.read });
    expect(await scales()).toEqual([3, 0, 6]);
    await engine.snapshot();
    await engine.close();
    engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0, clock: clock.read });
    expect(engine.info().recoveredFromSnapshot).toBeGreaterThan(0);
    expect(await scales()).toEqual([3, 0, 6]);
    await engine.close();
  });

  it('reads accounts of older logs and snapshots, written without a scale, at their code scale', () => {
    const legacy = (id: string, currency: string): AccountSpec =>
      ({ id, currency, flags: 0, metadata: null }) as unknown as AccountSpec;
    const events = [
      { type: 'AccountCreated' as const, timestamp: 1n, account: legacy('k', 'KWD') },
      { type: 'AccountCreated' as const, timestamp: 2n, account: legacy('g', 'GOLD') },
    ];
    const decoded = decodeEventRecord(encodeEventRecord({ first: 1, events }));
    const specs = decoded.events.map((event) =>
      event.type === 'AccountCreated' ? event.account : null,
    );
    expect(specs).toEqual([
      { id: 'k', currency: 'KWD', scale: 3, flags: 0, metadata: null },
      // A plain code with no ISO scale was always counted in whole minor units.
      { id: 'g', currency: 'GOLD', scale: 0, flags: 0, metadata: null },
    ]);

    const state = initialState();
    for (const event of decoded.events) evolve(state, event);
    const payload = captureState(state);
    const stripped = {
      ...payload,
      accounts: payload.accounts.map(({ scale: _scale, ...rest }) => rest),
    };
    const restored = restoreState(stripped);
    expect([...restored.accounts.values()].map((account) => account.scale)).toEqual([3, 0]);
  });
});
