// Issue 6's extension parts, in the real VS Code (run by test/vscode/run-reliability.mjs from `npm run test:reliability`,
// which puts their figures into RELIABILITY.md):
//  - secrets: "Tenant Migration: Run" as a login role with a known, distinctive password, plus a failing connection;
//    then the log folder, the workspace, the user data folder (settings, state, storage), every row of the state schema
//    and every message the commands returned are searched for the password: zero hits;
//  - the plan preview's webview: its CSP allows scripts only by the page's nonce and no remote source;
//  - extension + CLI at once: whichever starts second is refused naming the holder; the CLI killed with SIGKILL
//    releases the lock and the extension's next run proceeds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { figures } from '../../reliability/support/figures';
import { EXTENSION_ID, account, addProfile, extension, freshDatabase, query, server, urlFor, waitFor } from './helpers';

const fig = figures(__filename);
type Summary = { ok: boolean; message: string; next?: string; cancelled?: boolean };

/** Every form the password could take in a file, a log line, a URL, an SQL literal or JSON. */
function needles(password: string): string[] {
  return [...new Set([password, encodeURIComponent(password), password.replace(/'/g, "''"), JSON.stringify(password).slice(1, -1)])];
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
  try { return await fn(c); } finally { await c.end(); }
}

/** The CLI (dist/cli.js, built by the launcher) in a workspace of its own holding a copy of this workspace's spec. */
function cli(args: string[], databaseUrl: string): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stderr: string }>; dir: string } {
  const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-vsc-cli-'));
  fs.copyFileSync(path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'tenant-migration.json'), path.join(dir, 'tenant-migration.json'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PG[A-Z]*|DATABASE_URL|TEST_DATABASE_URL|ELECTRON_RUN_AS_NODE|VSCODE_.*)$/.test(k)) env[k] = v;
  env.DATABASE_URL = databaseUrl;
  const child = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), ...args], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
  child.stdout!.resume();
  child.stdin!.end();
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, done, dir };
}

/** The backend holding the run lock in a database (the session advisory lock), if any. */
async function runLockHolder(database: string): Promise<number | undefined> {
  const rows = await query<{ pid: number }>(database, `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
    WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1 AND l.pid <> pg_backend_pid()`, [database]);
  return rows[0]?.pid;
}

/** What an application's open UPDATE transaction holds on a table: the migration's ALTER TABLE waits and retries. */
async function applicationLock(database: string): Promise<pg.Client> {
  const app = new pg.Client(urlFor(database));
  app.on('error', () => undefined);
  await app.connect();
  await app.query('BEGIN');
  await app.query('LOCK TABLE dashboard_layouts IN ROW EXCLUSIVE MODE');
  return app;
}

const retried = async (database: string) =>
  (await query(database, `SELECT 1 FROM tenant_migration.audit WHERE outcome = 'retried'`).catch(() => [])).length > 0;

describe('reliability in the extension: secrets, webview CSP, extension + CLI', () => {
  let api: TenantMigrationApi;
  before(async () => { ({ api } = await extension()); });

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
      const profile = { name: `secret-${suffix}`, host: a.host, port: a.port, database, user: role, password, sslMode: 'disable' };
      assert.deepEqual(await vscode.commands.executeCommand('tenantMigration.addConnection', profile), { ok: true, name: profile.name });
      assert.equal(await vscode.commands.executeCommand('tenantMigration.selectConnection', profile.name), profile.name);
      const run = await vscode.commands.executeCommand<Summary & { reportPath?: string }>('tenantMigration.run');
      messages.push(JSON.stringify(run));
      assert.equal(run.ok, true, run.message);
      for (const command of ['tenantMigration.validate', 'tenantMigration.verifyIsolation', 'tenantMigration.testConnection']) {
        messages.push(JSON.stringify(await vscode.commands.executeCommand(command)));
      }
      // Failing connections with the same password: a database that does not exist, a closed port.
      for (const [name, change] of [['nodb', { database: `tm_no_such_db_${suffix}` }], ['noport', { port: 1 }]] as const) {
        const bad = { ...profile, name: `${profile.name}-${name}`, ...change };
        await vscode.commands.executeCommand('tenantMigration.addConnection', bad);
        const result = await vscode.commands.executeCommand<Summary>('tenantMigration.testConnection', bad.name);
        messages.push(JSON.stringify(result));
        assert.equal(result.ok, false, JSON.stringify(result));
        await vscode.commands.executeCommand('tenantMigration.removeConnection', bad.name);
      }
      assert.equal(await vscode.commands.executeCommand('tenantMigration.selectConnection', profile.name), profile.name);
      const rolledBack = await vscode.commands.executeCommand<Summary>('tenantMigration.rollback', { restoreData: false });
      messages.push(JSON.stringify(rolledBack));
      assert.equal(rolledBack.ok, true, rolledBack.message);

      // The log: wait until the output channel's file holds the run.
      const logFolder = api.logUri.fsPath;
      await waitFor('the log file to hold the run', () => filesUnder(logFolder).some((f) => fs.readFileSync(f, 'utf8').includes('Migration run complete')) || undefined);
      // Every log of this VS Code session (the window's, the extension host's, ours), the workspace, the user data folder.
      let logs = logFolder;
      while (path.basename(path.dirname(logs)) !== 'logs' && path.dirname(logs) !== logs) logs = path.dirname(logs);
      const userFolder = path.resolve(api.globalStorageUri.fsPath, '..', '..');
      const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
      const files = [...new Set([...filesUnder(logs), ...filesUnder(userFolder), ...filesUnder(workspace)])];
      assert.ok(files.some((f) => f.startsWith(logFolder)), 'the output channel\'s log was searched');
      assert.ok(files.some((f) => path.basename(f) === 'settings.json'), 'the user settings were searched');
      assert.ok(files.some((f) => f.endsWith('.jsonl')) && files.some((f) => /report-.*\.md$/.test(f)), 'the run log and the report were searched');
      const found: string[] = [];
      let fileBytes = 0;
      for (const f of files) {
        const text = fs.readFileSync(f).toString('latin1') + fs.readFileSync(f, 'utf8');
        fileBytes += fs.statSync(f).size;
        if (hitsIn(text, forms) > 0) found.push(f);
      }
      const outputBytes = messages.reduce((n, m) => n + Buffer.byteLength(m), 0);
      for (const m of messages) if (hitsIn(m, forms) > 0) found.push(`a command's result: ${m.slice(0, 200)}`);
      const tables = (await query<{ rel: string }>(database, `SELECT format('%I.%I', n.nspname, c.relname) AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'tenant_migration' AND c.relkind = 'r' ORDER BY 1`)).map((r) => r.rel);
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
      fig.record({ kind: 'secrets', via: 'extension', commands: messages.length, files: files.length, fileBytes, databaseRows, databaseBytes, outputBytes, hits: found.length });
      assert.ok(databaseRows > 50, `the audit log was searched (${databaseRows} rows)`);
      assert.deepEqual(found, [], 'the password was found');
    } finally {
      await vscode.commands.executeCommand('tenantMigration.removeConnection', `secret-${suffix}`).then(undefined, () => undefined);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
      await admin((c) => c.query(`DROP ROLE IF EXISTS "${role}"`));
    }
  });

  it('the plan preview webview: scripts only with the page\'s nonce, no remote source', async function () {
    this.timeout(90_000);
    const database = await freshDatabase('csp');
    await addProfile('csp', database);
    await vscode.commands.executeCommand('tenantMigration.previewPlan');
    const panel = await waitFor('the plan preview', () => api.planPreview());
    try {
      await waitFor('the webview to receive the plan', () => panel.posted.find((m) => m.type === 'plan' || m.type === 'error'), 45_000);
      // What VS Code was given to render (the panel keeps its WebviewPanel private).
      const html = (panel as unknown as { panel: vscode.WebviewPanel }).panel.webview.html;
      const cspSource = (panel as unknown as { panel: vscode.WebviewPanel }).panel.webview.cspSource;
      const metas = [...html.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/gi)];
      assert.equal(metas.length, 1, 'one CSP meta tag');
      const csp = metas[0]![1]!.replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&');
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name!, values]));
      assert.deepEqual(directives.get('default-src'), ["'none'"]);
      const scriptSrc = directives.get('script-src') ?? [];
      assert.equal(scriptSrc.length, 1, `script-src is the nonce alone: ${scriptSrc.join(' ')}`);
      const nonce = /^'nonce-([A-Za-z0-9+/=]{16,})'$/.exec(scriptSrc[0]!)?.[1];
      assert.ok(nonce, `script-src is a nonce: ${scriptSrc[0]}`);
      const allowedSources = new Set(["'none'", "'self'", 'data:', `'nonce-${nonce}'`, ...cspSource.split(/\s+/)]);
      const otherSources = [...directives.values()].flat().filter((v) => !allowedSources.has(v));
      assert.deepEqual(otherSources, [], 'no source beyond the webview\'s own resources');
      assert.ok(![...directives.values()].flat().some((v) => /unsafe-(inline|eval)|^\*$|^https?:$/.test(v)), 'nothing unsafe');
      const scripts = [...html.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1]!);
      const withoutNonce = scripts.filter((attrs) => !new RegExp(`\\snonce="${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}"`).test(attrs));
      // Every URL the page loads is a webview resource URI of this extension's dist/webview folder.
      const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/gi)].map((m) => m[1]!.replace(/&amp;/g, '&'));
      const webviewRoot = (panel as unknown as { panel: vscode.WebviewPanel }).panel.webview
        .asWebviewUri(vscode.Uri.file(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'webview'))).toString();
      const local = (u: string) => u.startsWith(`${webviewRoot}/`);
      const remote = urls.filter((u) => !local(u));
      const inlineHandlers = [...html.matchAll(/\son[a-z]+\s*=/gi)].length;
      fig.record({ kind: 'csp', scripts: scripts.length, withoutNonce: withoutNonce.length + inlineHandlers, remoteSources: remote.length, ok: withoutNonce.length + inlineHandlers + remote.length === 0 && scripts.length > 0 });
      assert.ok(scripts.length > 0, 'the page has its script');
      assert.deepEqual(withoutNonce, [], 'a script without the nonce');
      assert.equal(inlineHandlers, 0, 'no inline event handler');
      assert.ok(urls.length >= 2, `the page loads its script and styles: ${urls.join(', ')}`);
      assert.deepEqual(remote, [], 'a remote source');
    } finally {
      panel.dispose();
    }
  });

  it('extension running, CLI second: the CLI is refused (exit 3) naming the extension\'s session; the extension\'s run completes', async function () {
    this.timeout(180_000);
    const database = await freshDatabase('concext');
    await addProfile('concext', database);
    const app = await applicationLock(database);
    let released = false;
    try {
      const running = vscode.commands.executeCommand<Summary>('tenantMigration.run');
      await waitFor('the extension\'s run to wait for the application\'s lock, holding the run lock', () => retried(database).then((r) => r || undefined), 60_000);
      const holder = await runLockHolder(database);
      assert.ok(holder, 'the extension holds the run lock');
      const second = cli(['run', '--yes'], urlFor(database));
      const refused = await second.done;
      fs.rmSync(second.dir, { recursive: true, force: true });
      const line = refused.stderr.trimEnd().split('\n').at(-1) ?? '';
      const ok = refused.code === 3 && new RegExp(`Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*since \\d{4}-\\d\\d-\\d\\dT`).test(line);
      fig.record({ kind: 'concurrency', case: 'extension + CLI: the CLI, second, is refused naming the extension\'s session', ok });
      assert.equal(refused.code, 3, refused.stderr.slice(-1500));
      assert.match(line, new RegExp(`^tenant-migrate: Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*running "run"\\) since \\d{4}-\\d\\d-\\d\\dT.* — `));
      await app.query('ROLLBACK');
      released = true;
      const result = await running;
      assert.equal(result.ok, true, result.message);
      const runs = await query<{ status: string }>(database, 'SELECT status FROM tenant_migration.runs ORDER BY id');
      assert.deepEqual(runs.map((r) => r.status), ['succeeded'], 'the refused CLI recorded no run');
    } finally {
      if (!released) await app.query('ROLLBACK').catch(() => undefined);
      await app.end().catch(() => undefined);
    }
  });

  it('CLI running, extension second: the extension is refused naming the CLI\'s session; SIGKILL of the CLI releases the lock and the next run proceeds', async function () {
    this.timeout(180_000);
    const database = await freshDatabase('conccli');
    await addProfile('conccli', database);
    const app = await applicationLock(database);
    let released = false;
    const first = cli(['migrate', '--yes'], urlFor(database));
    try {
      await waitFor('the CLI to wait for the application\'s lock, holding the run lock', () => retried(database).then((r) => r || undefined), 60_000);
      const holder = await runLockHolder(database);
      assert.ok(holder, 'the CLI holds the run lock');
      const refused = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      const names = !refused.ok && new RegExp(`Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*running "migrate"\\) since`).test(refused.message);
      fig.record({ kind: 'concurrency', case: 'extension + CLI: the extension, second, is refused naming the CLI\'s session', ok: names });
      assert.equal(refused.ok, false, JSON.stringify(refused));
      assert.match(refused.message, new RegExp(`Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*running "migrate"\\) since \\d{4}-\\d\\d-\\d\\dT`));

      first.child.kill('SIGKILL');
      const dead = await first.done;
      assert.equal(dead.signal, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor('the server to release the dead CLI\'s run lock', async () => ((await runLockHolder(database)) === undefined ? true : undefined), 20_000);
      fig.record({ kind: 'concurrency', case: `extension + CLI: SIGKILL of the CLI releases the lock (in ${Date.now() - killedAt} ms)`, ok: true });
      await app.query('ROLLBACK');
      released = true;
      const next = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      const runs = (await query<{ command: string; status: string }>(database, 'SELECT command, status FROM tenant_migration.runs ORDER BY id')).map((r) => `${r.command}:${r.status}`);
      fig.record({ kind: 'concurrency', case: 'extension + CLI: after the CLI died, the extension\'s run proceeds and records the dead run as interrupted', ok: next.ok && runs[0] === 'migrate:interrupted' });
      assert.equal(next.ok, true, next.message);
      assert.deepEqual(runs, ['migrate:interrupted', 'run:succeeded']);
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      if (!released) await app.query('ROLLBACK').catch(() => undefined);
      await app.end().catch(() => undefined);
      fs.rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
