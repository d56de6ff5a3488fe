import { ConfigError } from '../errors.js';
import type { ExistingRowsAccount } from '../ports/destination.js';
import type { ExportLedgerPort } from '../ports/state-ports.js';

/**
 * Who loaded the rows of a stream's table that predate its `_account` column: the one account
 * the ledger shows loading the stream (an earlier version served one account per deployment),
 * or, when the ledger shows none, `soleAccount`: the deployment's only account. Otherwise (no
 * evidence and several accounts, or several accounts in the ledger) the rows cannot be told
 * apart here: a ConfigError (exit 2, nothing changed) says how to set the column by hand.
 */
export function existingRowsAccount(
  state: { readonly exports: Pick<ExportLedgerPort, 'loadedAccounts'> },
  stream: string,
  soleAccount: string | undefined,
): ExistingRowsAccount {
  return async () => {
    const accounts = await state.exports.loadedAccounts(stream);
    if (accounts.length === 1) return accounts[0]!;
    if (accounts.length === 0 && soleAccount !== undefined) return soleAccount;
    const why = accounts.length
      ? `the state store shows exports of it loaded by several accounts (${accounts.join(', ')})`
      : 'the state store shows no export of it loaded, and the config has several accounts';
    throw new ConfigError(
      `table ${stream} holds rows from before the _account column, and ${why}: which account they are cannot be told here. Add the column by hand (alter table ... add column _account text; update ... set _account = '<key>' by _export_id, which is exports.vendor_export_id in the state store; alter column _account set not null), then run again`,
    );
  };
}
