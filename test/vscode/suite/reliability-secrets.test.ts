// Issue 6's secrets check in the real VS Code: "Tenant Migration: Run" as a login role with a known, distinctive
// password, plus a failing connection; then the log folder, the workspace, the user data folder (settings, state,
// storage), every row of the state schema and every message the commands returned are searched for the password:
// zero hits.
// Run by test/vscode/run-reliability.mjs from `npm run test:reliability`, which puts its figures into test-results/reliability/RELIABILITY.md.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { figures } from '../../reliability/support/figures';
import { account, extension, freshDatabase, query, server, waitFor, type Summary } from './helpers';

const fig = figures(__filename);

/** Every form the password could take in a file, a log line, a URL, an SQL literal or JSON. */
function needles(password: string): string[] {
  return [
    ...new Set([
      password,
      encodeURIComponent(password),
      password.replace(/'/g, "''"),
      JSON.stringify(password).slice(1, -1),
    ]),
  ];
}

function hitsIn(text: string, forms: string[]): number {
  return forms.reduce((n, form) => n + text.split(form).length - 1, 0);
}

/** Every file below a folder (binary ones as latin1: a secret in a database file shows as its bytes). */
function filesUnder(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((d) => {
    const file = path.join(folder, d.name);
    return d.isDirectory() ? filesUnder(file) : d.isFile() ? [file] : [];
  });
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(server.adminUrl);
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('reliability in the extension: secrets', () => {
  let api: TenantMigrationApi;
  before(async () => {
    ({ api } = await extension());
  });

  it('secrets: a full run with a known password leaves it in no log, file, setting, audit row or message', async function () {
    this.timeout(240_000);
    const suffix = crypto.randomBytes(5).toString('hex');
    const role = `tm_vsc_secret_${suffix}`;
    // Needs URL-encoding and SQL quoting, and is long enough to be unmistakable.
    const password = `Vs'C0de p@ss:w/rd?#%&=+${suffix}`;
    const forms = needles(password);
    const database = await freshDatabase('secrets');
    await admin((c) => c.query(`CREATE ROLE "${role}" LOGIN SUPERUSER PASSWORD '${password.replace(/'/g, "''")}'`));
    const messages: string[] = [];
    try {
      const a = account();
      const profile = {
        name: `secret-${suffix}`,
        host: a.host,
        port: a.port,
        database,
        user: role,
        password,
        sslMode: 'disable',
      };
      assert.deepEqual(await vscode.commands.executeCommand('tenantMigration.addConnection', profile), {
        ok: true,
        name: profile.name,
      });
      assert.equal(
        await vscode.commands.executeCommand('tenantMigration.selectConnection', profile.name),
        profile.name,
      );
      const run = await vscode.commands.executeCommand<Summary & { reportPath?: string }>('tenantMigration.run');
      messages.push(JSON.stringify(run));
      assert.equal(run.ok, true, run.message);
      for (const command of [
        'tenantMigration.validate',
        'tenantMigration.verifyIsolation',
        'tenantMigration.testConnection',
      ]) {
        messages.push(JSON.stringify(await vscode.commands.executeCommand(command)));
      }
      // Failing connections with the same password: a database that does not exist, a closed port.
      for (const [name, change] of [
        ['nodb', { database: `tm_no_such_db_${suffix}` }],
        ['noport', { port: 1 }],
      ] as const) {
        const bad = { ...profile, name: `${profile.name}-${name}`, ...change };
        await vscode.commands.executeCommand('tenantMigration.addConnection', bad);
        const result = await vscode.commands.executeCommand<Summary>('tenantMigration.testConnection', bad.name);
        messages.push(JSON.stringify(result));
        assert.equal(result.ok, false, JSON.stringify(result));
        await vscode.commands.executeCommand('tenantMigration.removeConnection', bad.name);
      }
      assert.equal(
        await vscode.commands.executeCommand('tenantMigration.selectConnection', profile.name),
        profile.name,
      );
      const rolledBack = await vscode.commands.executeCommand<Summary>('tenantMigration.rollback', {
        restoreData: false,
      });
      messages.push(JSON.stringify(rolledBack));
      assert.equal(rolledBack.ok, true, rolledBack.message);

      // The log: wait until the output channel's file holds the run.
      const logFolder = api.logUri.fsPath;
      await waitFor(
        'the log file to hold the run',
        () =>
          filesUnder(logFolder).some((f) => fs.readFileSync(f, 'utf8').includes('Migration run complete')) || undefined,
      );
      // Every log of this VS Code session (the window's, the extension host's, ours), the workspace, the user data folder.
      let logs = logFolder;
      while (path.basename(path.dirname(logs)) !== 'logs' && path.dirname(logs) !== logs) logs = path.dirname(logs);
      const userFolder = path.resolve(api.globalStorageUri.fsPath, '..', '..');
      const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
      const files = [...new Set([...filesUnder(logs), ...filesUnder(userFolder), ...filesUnder(workspace)])];
      assert.ok(
        files.some((f) => f.startsWith(logFolder)),
        "the output channel's log was searched",
      );
      assert.ok(
        files.some((f) => path.basename(f) === 'settings.json'),
        'the user settings were searched',
      );
      assert.ok(
        files.some((f) => f.endsWith('.jsonl')) && files.some((f) => /report-.*\.md$/.test(f)),
        'the run log and the report were searched',
      );
      const found: string[] = [];
      let fileBytes = 0;
      for (const f of files) {
        const text = fs.readFileSync(f).toString('latin1') + fs.readFileSync(f, 'utf8');
        fileBytes += fs.statSync(f).size;
        if (hitsIn(text, forms) > 0) found.push(f);
      }
      const outputBytes = messages.reduce((n, m) => n + Buffer.byteLength(m), 0);
      for (const m of messages) if (hitsIn(m, forms) > 0) found.push(`a command's result: ${m.slice(0, 200)}`);
      const tables = (
        await query<{ rel: string }>(
          database,
          `SELECT format('%I.%I', n.nspname, c.relname) AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'tenant_migration' AND c.relkind = 'r' ORDER BY 1`,
        )
      ).map((r) => r.rel);
      assert.ok(tables.includes('tenant_migration.audit'));
      let databaseRows = 0;
      let databaseBytes = 0;
      for (const rel of [...tables, 'pg_catalog.pg_db_role_setting']) {
        for (const r of await query<{ row: string }>(database, `SELECT t::text AS row FROM ${rel} t`)) {
          databaseRows++;
          databaseBytes += Buffer.byteLength(r.row);
          if (hitsIn(r.row, forms) > 0) found.push(`${rel}: ${r.row.slice(0, 200)}`);
        }
      }
      fig.record({
        kind: 'secrets',
        via: 'extension',
        commands: messages.length,
        files: files.length,
        fileBytes,
        databaseRows,
        databaseBytes,
        outputBytes,
        hits: found.length,
      });
      assert.ok(databaseRows > 50, `the audit log was searched (${databaseRows} rows)`);
      assert.deepEqual(found, [], 'the password was found');
    } finally {
      await vscode.commands
        .executeCommand('tenantMigration.removeConnection', `secret-${suffix}`)
        .then(undefined, () => undefined);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
      await admin((c) => c.query(`DROP ROLE IF EXISTS "${role}"`));
    }
  });
});
