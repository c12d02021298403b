// A production connection: a writing step needs the database name typed; dismissing the prompt changes nothing.
// (Typing it for real is in the UI end-to-end test, test/vscode/ui/e2e.mjs.)
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { addProfile, extension, freshDatabase, query } from './helpers';

type Summary = { ok: boolean; message: string; cancelled?: boolean };

describe('a production connection', () => {
  let database: string;

  before(async function () {
    this.timeout(120_000);
    await extension();
    // A rehearsal of the workspace's script on a non-production copy, so that only the typed confirmation is asked.
    const rehearsal = await freshDatabase('staging');
    await addProfile('staging', rehearsal);
    const rehearsed = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
    assert.equal(rehearsed.ok, true, rehearsed.message);
    database = await freshDatabase('prod');
    await addProfile('prod', database, { production: true });
  });

  for (const command of ['tenantMigration.backup', 'tenantMigration.run', 'tenantMigration.rollback'] as const) {
    it(`${command.split('.')[1]}: writes nothing unless the database name is typed`, async () => {
      const pending = vscode.commands.executeCommand<Summary>(
        command,
        ...(command === 'tenantMigration.rollback' ? [{ restoreData: false }] : []),
      );
      // The confirmation is a quick input: dismiss it as the operator would with Escape.
      await new Promise((r) => setTimeout(r, 1500));
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      const result = await pending;
      assert.deepEqual(
        [result.ok, result.cancelled, result.message],
        [false, true, 'Not confirmed: nothing was changed.'],
      );
      const [state] = await query<{ schema: string | null }>(
        database,
        `SELECT to_regnamespace('tenant_migration')::text AS schema`,
      );
      assert.equal(state!.schema, null, 'no state schema, no backups, no run record');
    });
  }
});
