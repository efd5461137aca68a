import { Ledger, formatAmount, isLedgerError, parseAmount } from '@shardledger/shard-router';

const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data' });
// ISO 4217 codes take their scale from ISO (KWD 3, KRW 0); other assets name theirs: USDC/6.
await ledger.createAccounts([
  { id: 'dinar-bank', currency: 'KWD' },
  { id: 'dinar-wallet', currency: 'KWD' },
  { id: 'coin-bank', currency: 'USDC/6' },
  { id: 'coin-wallet', currency: 'USDC/6' },
]);
// Decimal text from a person or an API becomes exact minor units (bigint), never a float.
const results = await ledger.createTransfers([
  { id: 'kwd-1', debitAccountId: 'dinar-bank', creditAccountId: 'dinar-wallet', amount: parseAmount('1.500', 'KWD'), currency: 'KWD' },
  { id: 'usdc-1', debitAccountId: 'coin-bank', creditAccountId: 'coin-wallet', amount: parseAmount('2.000001', 'USDC/6'), currency: 'USDC/6' },
]);
if (results.some((result) => result.status !== 'ok')) throw new Error(JSON.stringify(results));

// Each account keeps its scale: print balances with it.
const [dinar, coin] = await ledger.lookupAccounts(['dinar-wallet', 'coin-wallet']);
if (dinar === undefined || coin === undefined) throw new Error('accounts missing');
console.log(formatAmount(dinar.balance, dinar.scale), dinar.currency); // 1.500 KWD
console.log(formatAmount(coin.balance, coin.scale), coin.currency); // 2.000001 USDC/6
if (dinar.balance !== 1500n || formatAmount(coin.balance, coin.scale) !== '2.000001') {
  throw new Error(`unexpected balances ${dinar.balance} ${coin.balance}`);
}

// Finer than the scale is refused, not rounded; a plain code ISO does not know has no scale.
const tooFine = (() => { try { return parseAmount('1.001', 'USD'); } catch (error) { return error; } })();
if (!isLedgerError(tooFine, 'AMOUNT_TOO_PRECISE')) throw new Error('1.001 USD was accepted');
const [points] = await ledger.createAccounts([{ id: 'loyalty', currency: 'PTS' }]);
if (points?.status !== 'currency_unknown') throw new Error(`PTS gave ${points?.status}`); // PTS/0 works
await ledger.close();
