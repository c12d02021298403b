// Workspace Trust: in an untrusted workspace nothing connects and nothing runs. A TCP listener stands in for the
// database: if anything tried to connect, it would see the connection. (Run by run-all.mjs in its own untrusted
// session: TM_SUITES=untrusted.)
import assert from 'node:assert/strict';
import net from 'node:net';
import * as vscode from 'vscode';
import { extension } from './helpers';

type Summary = { ok: boolean; message: string; next?: string };

describe('an untrusted workspace', () => {
  let trap: net.Server;
  let port = 0;
  let connections = 0;

  before(async () => {
    trap = net.createServer((socket) => { connections++; socket.destroy(); });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    port = (trap.address() as net.AddressInfo).port;
    await extension();
  });

  after(() => new Promise<void>((resolve) => trap.close(() => resolve())));

  it('is untrusted, and has a spec (so only trust stands between the commands and a database)', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    assert.equal((await vscode.workspace.findFiles('tenant-migration.json')).length, 1);
  });

  it('refuses every command that would connect or run, and says how to trust the workspace', async () => {
    const added = await vscode.commands.executeCommand<{ ok: boolean }>('tenantMigration.addConnection',
      { name: 'trap', host: '127.0.0.1', port, database: 'db', user: 'u', password: 'not-a-real-password', sslMode: 'disable' });
    assert.deepEqual(added, { ok: true, name: 'trap' }, 'adding a profile only writes user settings');
    process.env.DATABASE_URL = `postgresql://u@127.0.0.1:${port}/db`;
    for (const command of ['run', 'previewPlan', 'testConnection', 'backup', 'migrate', 'validate', 'verifyIsolation', 'rollback', 'generateScript', 'tickManualItem', 'runStep']) {
      const args = command === 'rollback' ? [{ restoreData: false }] : command === 'runStep' ? ['backup'] : command === 'tickManualItem' ? ['full-dump'] : [];
      const result = await vscode.commands.executeCommand<Summary>(`tenantMigration.${command}`, ...args);
      assert.equal(result?.ok, false, `${command}: ${JSON.stringify(result)}`);
      assert.match(result.message, /not available in an untrusted workspace/, command);
      assert.match(result.next ?? '', /Trust this workspace/, command);
    }
    delete process.env.DATABASE_URL;
  });

  it('does not read the database for the checklist, which shows the trust welcome view instead', async () => {
    const { api } = await extension();
    await api.refreshChecklist();
    assert.deepEqual(await api.checklist.getChildren(), []);
  });

  it('made no connection at all', async () => {
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(connections, 0);
  });
});
