// Issue 6's extension + CLI at once, in the real VS Code: whichever starts second is refused naming the holder; the
// CLI killed with SIGKILL releases the lock and the extension's next run proceeds.
// Run by test/vscode/run-reliability.mjs from `npm run test:reliability`, which puts its figures into test-results/reliability/RELIABILITY.md.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import * as vscode from 'vscode';
import { figures } from '../../reliability/support/figures';
import { EXTENSION_ID, addProfile, extension, freshDatabase, query, urlFor, waitFor, type Summary } from './helpers';

const fig = figures(__filename);

/** The CLI (dist/cli.js, built by the launcher) in a workspace of its own holding a copy of this workspace's spec. */
function cli(
  args: string[],
  databaseUrl: string,
): {
  child: ReturnType<typeof spawn>;
  done: Promise<{ code: number | null; signal: string | null; stderr: string }>;
  dir: string;
} {
  const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-vsc-cli-'));
  fs.copyFileSync(
    path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'tenant-migration.json'),
    path.join(dir, 'tenant-migration.json'),
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(PG[A-Z]*|DATABASE_URL|TEST_DATABASE_URL|ELECTRON_RUN_AS_NODE|VSCODE_.*)$/.test(k)) env[k] = v;
  env.DATABASE_URL = databaseUrl;
  const child = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), ...args], {
    cwd: dir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
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
  const rows = await query<{ pid: number }>(
    database,
    `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
    WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1 AND l.pid <> pg_backend_pid()`,
    [database],
  );
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

describe('reliability in the extension: extension + CLI', () => {
  before(async () => {
    await extension();
  });

  it("extension running, CLI second: the CLI is refused (exit 3) naming the extension's session; the extension's run completes", async function () {
    this.timeout(180_000);
    const database = await freshDatabase('concext');
    await addProfile('concext', database);
    const app = await applicationLock(database);
    let released = false;
    try {
      const running = vscode.commands.executeCommand<Summary>('tenantMigration.run');
      await waitFor(
        "the extension's run to wait for the application's lock, holding the run lock",
        () => retried(database).then((r) => r || undefined),
        60_000,
      );
      const holder = await runLockHolder(database);
      assert.ok(holder, 'the extension holds the run lock');
      const second = cli(['run', '--yes', '--unticked-ok'], urlFor(database));
      const refused = await second.done;
      fs.rmSync(second.dir, { recursive: true, force: true });
      const line = refused.stderr.trimEnd().split('\n').at(-1) ?? '';
      const ok =
        refused.code === 3 &&
        new RegExp(
          `Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*since \\d{4}-\\d\\d-\\d\\dT`,
        ).test(line);
      fig.record({
        kind: 'concurrency',
        case: "extension + CLI: the CLI, second, is refused naming the extension's session",
        ok,
      });
      assert.equal(refused.code, 3, refused.stderr.slice(-1500));
      assert.match(
        line,
        new RegExp(
          `^tenant-migrate: Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*running "run"\\) since \\d{4}-\\d\\d-\\d\\dT.* — `,
        ),
      );
      await app.query('ROLLBACK');
      released = true;
      const result = await running;
      assert.equal(result.ok, true, result.message);
      const runs = await query<{ status: string }>(database, 'SELECT status FROM tenant_migration.runs ORDER BY id');
      assert.deepEqual(
        runs.map((r) => r.status),
        ['succeeded'],
        'the refused CLI recorded no run',
      );
    } finally {
      if (!released) await app.query('ROLLBACK').catch(() => undefined);
      await app.end().catch(() => undefined);
    }
  });

  it("CLI running, extension second: the extension is refused naming the CLI's session; SIGKILL of the CLI releases the lock and the next run proceeds", async function () {
    this.timeout(180_000);
    const database = await freshDatabase('conccli');
    await addProfile('conccli', database);
    const app = await applicationLock(database);
    let released = false;
    const first = cli(['migrate', '--yes', '--unticked-ok'], urlFor(database));
    try {
      await waitFor(
        "the CLI to wait for the application's lock, holding the run lock",
        () => retried(database).then((r) => r || undefined),
        60_000,
      );
      const holder = await runLockHolder(database);
      assert.ok(holder, 'the CLI holds the run lock');
      const refused = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      const names =
        !refused.ok &&
        new RegExp(
          `Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*running "migrate"\\) since`,
        ).test(refused.message);
      fig.record({
        kind: 'concurrency',
        case: "extension + CLI: the extension, second, is refused naming the CLI's session",
        ok: names,
      });
      assert.equal(refused.ok, false, JSON.stringify(refused));
      assert.match(
        refused.message,
        new RegExp(
          `Another migration run holds the lock on ${database}: .*pid ${holder}\\b.*running "migrate"\\) since \\d{4}-\\d\\d-\\d\\dT`,
        ),
      );

      first.child.kill('SIGKILL');
      const dead = await first.done;
      assert.equal(dead.signal, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor(
        "the server to release the dead CLI's run lock",
        async () => ((await runLockHolder(database)) === undefined ? true : undefined),
        20_000,
      );
      fig.record({
        kind: 'concurrency',
        case: `extension + CLI: SIGKILL of the CLI releases the lock (in ${Date.now() - killedAt} ms)`,
        ok: true,
      });
      await app.query('ROLLBACK');
      released = true;
      const next = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      const runs = (
        await query<{ command: string; status: string }>(
          database,
          'SELECT command, status FROM tenant_migration.runs ORDER BY id',
        )
      ).map((r) => `${r.command}:${r.status}`);
      fig.record({
        kind: 'concurrency',
        case: "extension + CLI: after the CLI died, the extension's run proceeds and records the dead run as interrupted",
        ok: next.ok && runs[0] === 'migrate:interrupted',
      });
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
