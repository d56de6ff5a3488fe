import { ConfigError } from '../errors.js';
import type { StateStore } from '../state/state-store.js';
import type { ExistingRowsAccount } from './destination.js';

/**
 * Who loaded the rows of a stream's table that predate its `_account` column: the one account
 * the ledger shows loading the stream (an earlier version served one account per deployment),
 * or `fallback` (the account at hand) when the ledger shows none. Several accounts loading a
 * table without `_account` cannot be told apart: a ConfigError says how to set it by hand.
 */
export function existingRowsAccount(
  state: StateStore,
  stream: string,
  fallback: string,
): ExistingRowsAccount {
  return async () => {
    const accounts = await state.exports.loadedAccounts(stream);
    if (accounts.length <= 1) return accounts[0] ?? fallback;
    throw new ConfigError(
      `table ${stream} has no _account column, and the state store shows exports of it loaded by several accounts (${accounts.join(', ')}): its rows cannot be told apart. Add the column by hand with the right account for each row, then run again`,
    );
  };
}
