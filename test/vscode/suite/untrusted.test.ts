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
    trap = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
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
    const added = await vscode.commands.executeCommand<{ ok: boolean }>('tenantMigration.addConnection', {
      name: 'trap',
      host: '127.0.0.1',
      port,
      database: 'db',
      user: 'u',
      password: 'not-a-real-password',
      sslMode: 'disable',
    });
    assert.deepEqual(added, { ok: true, name: 'trap' }, 'adding a profile only writes user settings');
    process.env.DATABASE_URL = `postgresql://u@127.0.0.1:${port}/db`;
    for (const command of [
      'run',
      'previewPlan',
      'testConnection',
      'backup',
      'migrate',
      'validate',
      'verifyIsolation',
      'rollback',
      'generateScript',
      'tickManualItem',
      'runStep',
    ]) {
      const args =
        command === 'rollback'
          ? [{ restoreData: false }]
          : command === 'runStep'
            ? ['backup']
            : command === 'tickManualItem'
              ? ['full-dump']
              : [];
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

  it('SQL editor: shows the CodeLens and the lint, but runs no statement and reads no table size', async () => {
    const file = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'checks.sql');
    await vscode.workspace.fs.writeFile(
      file,
      new TextEncoder().encode(
        '-- expect: 0\nSELECT count(*) FROM credentials;\nCREATE INDEX i ON credentials (id);\n',
      ),
    );
    await vscode.window.showTextDocument(file);
    const deadline = Date.now() + 30_000;
    let lenses: vscode.CodeLens[] = [];
    while (lenses.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', file, 100);
    }
    assert.ok(
      lenses.some((l) => l.command?.command === 'tenantMigration.runStatement'),
      'the Run CodeLens is there',
    );
    const result = await vscode.commands.executeCommand<Summary>('tenantMigration.runStatement', file, 13);
    assert.equal(result?.ok, false, JSON.stringify(result));
    assert.match(result.message, /not available in an untrusted workspace/);
    const result2 = await vscode.commands.executeCommand<Summary>('tenantMigration.runAllChecks', file);
    assert.equal(result2?.ok, false, JSON.stringify(result2));
  });

  it('made no connection at all', async () => {
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(connections, 0);
  });
});
