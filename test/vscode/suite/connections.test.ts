// Connections: profiles live in user settings only, passwords only in SecretStorage, DATABASE_URL works too,
// and Test Connection reports the server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { account, addProfile, extension, freshDatabase, urlFor, waitFor } from './helpers';

/** Every file under a folder, with its text (binary files too: a secret in a database file shows as its bytes). */
function filesUnder(folder: string): { file: string; text: string }[] {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((d) => {
    const file = path.join(folder, d.name);
    return d.isDirectory()
      ? filesUnder(file)
      : d.isFile()
        ? [{ file, text: fs.readFileSync(file).toString('latin1') }]
        : [];
  });
}

describe('connections', () => {
  let database: string;
  let userFolder: string;

  before(async () => {
    const { api } = await extension();
    database = await freshDatabase('conn');
    userFolder = path.resolve(api.globalStorageUri.fsPath, '..', '..');
  });

  it('keeps the profile in user settings and the password only in the secret storage', async () => {
    await addProfile('local', database);
    const inspected = vscode.workspace
      .getConfiguration('tenantMigration')
      .inspect<Record<string, unknown>[]>('connections');
    const stored = inspected?.globalValue?.find((p) => p.name === 'local');
    assert.deepEqual(stored, {
      name: 'local',
      host: account().host,
      port: account().port,
      database,
      user: account().user,
      sslMode: 'disable',
    });
    assert.equal(inspected?.workspaceValue, undefined, 'nothing is written to workspace settings');

    const settingsFile = path.join(userFolder, 'settings.json');
    assert.ok(
      fs.readFileSync(settingsFile, 'utf8').includes(`"${database}"`),
      'the profile is in the user settings file',
    );
    const secret = account().password;
    const workspaceFiles = (vscode.workspace.workspaceFolders ?? []).flatMap((f) =>
      filesUnder(path.join(f.uri.fsPath, '.vscode')),
    );
    const leaks = [...filesUnder(userFolder), ...workspaceFiles].filter(
      (f) => f.text.includes(secret) || f.text.includes(encodeURIComponent(secret)),
    );
    assert.deepEqual(
      leaks.map((f) => f.file),
      [],
      'no settings or state file holds the password',
    );

    // The password does reach the server: from the secret storage (the server refuses a connection without it).
    const result = await vscode.commands.executeCommand<{ ok: boolean; message: string; serverVersion: string }>(
      'tenantMigration.testConnection',
      'local',
    );
    assert.equal(result.ok, true, result.message);
    assert.match(result.serverVersion, /^\d+/);
    assert.match(result.message, new RegExp(`Connected to .*/${database}: PostgreSQL`));
    assert.ok(!result.message.includes(secret));
  });

  it('never takes a profile from workspace settings: a cloned repository cannot redirect a stored password', async () => {
    // What a hostile repository would commit: its own "local" profile on its host, and a setting to weaken the checks.
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const file = path.join(folder, '.vscode', 'settings.json');
    const hostile = [
      { name: 'local', host: '203.0.113.9', database, user: account().user },
      { name: 'exfiltrate', host: '203.0.113.9', database: 'x', user: 'x' },
    ];
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      JSON.stringify({
        'tenantMigration.connections': hostile,
        'tenantMigration.databaseUrlIsProduction': false,
        'tenantMigration.showStatusBar': false,
      }),
    );
    const config = () => vscode.workspace.getConfiguration('tenantMigration');
    try {
      await waitFor(
        'VS Code to read the workspace settings',
        () => config().inspect('showStatusBar')?.workspaceValue === false,
      );
      const refused = await vscode.commands.executeCommand<{ ok: boolean; message: string }>(
        'tenantMigration.selectConnection',
        'exfiltrate',
      );
      assert.equal(refused.ok, false);
      assert.match(refused.message, /no connection named "exfiltrate"/);
      // "local" still means the user's profile: the test connects to the real server, not to the workspace's host.
      assert.equal(await vscode.commands.executeCommand('tenantMigration.selectConnection', 'local'), 'local');
      const result = await vscode.commands.executeCommand<{ ok: boolean; message: string }>(
        'tenantMigration.testConnection',
      );
      assert.equal(result.ok, true, result.message);
      assert.match(result.message, new RegExp(`@${account().host}:${account().port}/${database}:`));
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      await waitFor(
        'VS Code to drop the workspace settings',
        () => config().inspect('showStatusBar')?.workspaceValue === undefined,
      );
    }
  });

  it('uses DATABASE_URL from the environment as an alternative', async () => {
    process.env.DATABASE_URL = urlFor(database);
    try {
      assert.equal(
        await vscode.commands.executeCommand('tenantMigration.selectConnection', '$DATABASE_URL'),
        'DATABASE_URL',
      );
      const result = await vscode.commands.executeCommand<{ ok: boolean; message: string }>(
        'tenantMigration.testConnection',
      );
      assert.equal(result.ok, true, result.message);
      assert.match(result.message, new RegExp(`/${database}: PostgreSQL`));
    } finally {
      delete process.env.DATABASE_URL;
      await vscode.commands.executeCommand('tenantMigration.selectConnection', 'local');
    }
  });

  it('reports a wrong host with what to do next, without asking anything', async () => {
    await vscode.commands.executeCommand('tenantMigration.addConnection', {
      name: 'nowhere',
      host: '127.0.0.1',
      port: 1,
      database: 'x',
      user: 'x',
      sslMode: 'disable',
    });
    try {
      const result = await vscode.commands.executeCommand<{ ok: boolean; message: string; next: string }>(
        'tenantMigration.testConnection',
        'nowhere',
      );
      assert.equal(result.ok, false);
      assert.match(result.message, /Nothing accepts connections at 127\.0\.0\.1:1/);
      assert.match(result.next, /Check the host and port/);
    } finally {
      assert.equal(await vscode.commands.executeCommand('tenantMigration.removeConnection', 'nowhere'), true);
      await vscode.commands.executeCommand('tenantMigration.selectConnection', 'local');
    }
  });
});
