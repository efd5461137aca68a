// Goal: each package's `.` door exports its API and nothing else, so an internal cannot leak back
// onto it unnoticed. Method: load every door of the built packages and compare the names `.`
// exports at run time (values) and in its declarations (values and types) with explicit lists.
import { createRequire } from 'node:module';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

/** Every name (value or type) the built declarations of a package door export. */
function declaredNames(door: string): string[] {
  const file = require.resolve(door).replace(/\.js$/, '.d.ts');
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error(`no module symbol for ${door}`);
  return checker
    .getExportsOfModule(module)
    .map((symbol) => symbol.name)
    .sort();
}

/** The names a door exports at run time. */
async function runtimeNames(door: string): Promise<string[]> {
  return Object.keys((await import(door)) as object).sort();
}

const sorted = (names: readonly string[]): string[] => [...names].sort();

const ledgerCoreValues = [
  'LedgerError',
  'ShardEngine',
  'accountFlags',
  'currencyScale',
  'errorCatalogue',
  'formatAmount',
  'isLedgerError',
  'limits',
  'parseAccount',
  'parseAmount',
  'parseResolution',
  'parseTransfer',
];

const ledgerCoreTypes = [
  'AccountClosed',
  'AccountCreated',
  'AccountFrozen',
  'AccountStatus',
  'AccountUnfrozen',
  'AccountInput',
  'AccountSpec',
  'AccountView',
  'AmountInput',
  'BackupInfo',
  'Command',
  'CommandResult',
  'CommandStatus',
  'CommandType',
  'CurrencyTotalsView',
  'Durability',
  'EngineInfo',
  'ErrorCode',
  'ErrorDetail',
  'ErrorKind',
  'EventType',
  'FundsReserved',
  'HistoryEntry',
  'HistoryOptions',
  'HistoryPage',
  'HoldResolution',
  'LedgerEvent',
  'Metadata',
  'ParseAmountOptions',
  'Parsed',
  'PendingResolutionSpec',
  'PendingTransferExpired',
  'PendingTransferPosted',
  'PendingTransferVoided',
  'PostPendingInput',
  'RecordReplica',
  'RejectionCode',
  'RejectionStatus',
  'ReservationCommitted',
  'ReservationLeg',
  'ReservationReleased',
  'ReservationState',
  'SagaOutcome',
  'SequencedEvent',
  'ShardEngineOptions',
  'SnapshotInfo',
  'TransferCreated',
  'TransferInput',
  'TransferRecord',
  'TransferSpec',
  'VerifyReport',
  'Violation',
  'VoidPendingInput',
];

const shardRouterValues = [
  'Ledger',
  'LedgerError',
  'ReadModel',
  'currencyScale',
  'dumpProjection',
  'errorCatalogue',
  'formatAmount',
  'isLedgerError',
  'limits',
  'openReadModelFile',
  'pageSizeDefault',
  'parseAmount',
  'projectionTables',
  'readModelFileName',
  'readModelSchemaVersion',
  'replicationStatus',
];

const shardRouterTypes = [
  'Account',
  'AccountBalance',
  'AccountInput',
  'AccountPage',
  'AccountResult',
  'AccountStatus',
  'AsOf',
  'BackupInfo',
  'BackupResult',
  'ChangeEvent',
  'ChangeFeed',
  'ChangesOptions',
  'CommandStatus',
  'CurrencyTotals',
  'Durability',
  'Entry',
  'ErrorCode',
  'HistoryEntry',
  'HistoryPage',
  'LagSource',
  'LeaseHolder',
  'LedgerEvent',
  'LedgerInfo',
  'LedgerMetrics',
  'LedgerOptions',
  'ListAccountsOptions',
  'LogPosition',
  'PageOptions',
  'ParseAmountOptions',
  'PostPendingInput',
  'PostedBalance',
  'ReadModelAccountPage',
  'ReadModelFile',
  'ReadModelLag',
  'ReadModelOptions',
  'ReadModelQueries',
  'ReplicationOptions',
  'ReplicationStatus',
  'SagaCounts',
  'ShardLag',
  'ShardMetrics',
  'SnapshotInfo',
  'Statement',
  'StatementOptions',
  'StreamState',
  'Transfer',
  'TransferCounts',
  'TransferInput',
  'TransferPage',
  'TransferResult',
  'VerifyResult',
  'VoidPendingInput',
  'WaitTarget',
  'Watermark',
];

describe('entry points', () => {
  it("ledger-core's '.' exports exactly the single-shard API", async () => {
    expect(await runtimeNames('@shardledger/ledger-core')).toEqual(sorted(ledgerCoreValues));
    expect(declaredNames('@shardledger/ledger-core')).toEqual(
      sorted([...ledgerCoreValues, ...ledgerCoreTypes]),
    );
  });

  it("shard-router's '.' exports exactly the Ledger API and its read model", async () => {
    expect(await runtimeNames('@shardledger/shard-router')).toEqual(sorted(shardRouterValues));
    expect(declaredNames('@shardledger/shard-router')).toEqual(
      sorted([...shardRouterValues, ...shardRouterTypes]),
    );
  });

  it("loads './internals' and './testing' of both packages, each with its own names", async () => {
    for (const pkg of ['@shardledger/ledger-core', '@shardledger/shard-router']) {
      const api = await runtimeNames(pkg);
      for (const door of [`${pkg}/internals`, `${pkg}/testing`]) {
        const names = await runtimeNames(door);
        expect(names.length, door).toBeGreaterThan(0);
        expect(
          names.filter((name) => api.includes(name)),
          door,
        ).toEqual([]);
      }
    }
  });

  it("keeps the failpoints behind shard-router's './testing'", async () => {
    expect(await runtimeNames('@shardledger/shard-router/testing')).toEqual(
      sorted(['armFailpoint', 'disarmAllFailpoints', 'failpointNames']),
    );
  });
});
