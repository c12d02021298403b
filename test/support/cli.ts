// Helpers for the CLI contract tests: build dist/cli.js once, run it in a temp workspace, fingerprint a database.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';

const ROOT = path.join(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

let built: Promise<void> | undefined;

/** Builds dist/cli.js once per test process (every CLI suite calls this in its `before`). */
export function buildCli(): Promise<void> {
  built ??= new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }, (error, _stdout, stderr) =>
      error ? reject(new Error(`node scripts/build.mjs failed: ${stderr}`)) : resolve(),
    );
  });
  return built;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The lines of stderr that start with "tenant-migrate:" (the final error line). */
  readonly errorLines: string[];
}

/** The environment of a CLI run: nothing inherited that names a database or a password. */
function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(PG[A-Z]*|DATABASE_URL|TEST_DATABASE_URL)$/.test(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs `node dist/cli.js ARGS` in `cwd` with stdin a pipe (so never a TTY). */
export function runCli(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, errorLines: stderr.split('\n').filter((l) => l.startsWith('tenant-migrate:')) }),
    );
  });
}

/** A temp folder holding a tenant-migration.json. */
export class Workspace {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-cli-'));

  constructor(spec?: Record<string, unknown> | string) {
    if (spec !== undefined) this.writeSpec(spec);
  }

  get specPath(): string {
    return path.join(this.dir, 'tenant-migration.json');
  }

  get scriptPath(): string {
    return path.join(this.dir, 'scripts', 'migrate_to_multitenant.sql');
  }

  writeSpec(spec: Record<string, unknown> | string): void {
    fs.writeFileSync(this.specPath, typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2));
  }

  file(relative: string): string {
    return path.join(this.dir, relative);
  }

  /** Every file below the workspace, relative, sorted. */
  files(): string[] {
    return (fs.readdirSync(this.dir, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((f) => fs.statSync(path.join(this.dir, f)).isFile())
      .sort();
  }

  run(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return runCli(this.dir, args, env);
  }

  /** Ticks every manual prerequisite, as the operator does once they are done (writing commands refuse until then). */
  async tickAll(env: Record<string, string | undefined>): Promise<void> {
    const r = await this.run(['tick', 'full-dump', 'users-notified', 'script-reviewed'], env);
    if (r.code !== 0) throw new Error(`tenant-migrate tick failed: ${r.stderr}`);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The password inside a database URL (decoded), for asserting that no output shows it. */
export function passwordOf(url: string): string {
  return decodeURIComponent(new URL(url).password);
}

export function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

export function withPort(url: string, port: number, host = '127.0.0.1'): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  return u.toString();
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** Asserts-friendly check that a text shows neither the password nor its URL encoding. */
export function showsPassword(text: string, password: string): boolean {
  return password.length > 0 && (text.includes(password) || text.includes(encodeURIComponent(password)));
}

/**
 * The database's fingerprint: schemas, tables, columns, constraints, indexes, RLS flags, policies, triggers,
 * functions outside the system schemas, and an md5 of every row of every table in public and tenant_migration.
 */
export async function databaseDigest(client: pg.ClientBase): Promise<Record<string, unknown>> {
  const q = async (sql: string) => (await client.query(sql)).rows;
  const userSchemas = `n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'`;
  const tables =
    await q(`SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i') AND ${userSchemas} ORDER BY 1, 2`);
  const contents: Record<string, string> = {};
  for (const t of tables.filter(
    (t) => ['r', 'p'].includes(t.kind) && ['public', 'tenant_migration'].includes(t.schema),
  )) {
    const rel = `"${t.schema.replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`;
    const row = (
      await client.query(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS md5 FROM ${rel} t`,
      )
    ).rows[0];
    contents[`${t.schema}.${t.name}`] = `${row.n}:${row.md5}`;
  }
  return {
    schemas: (await q(`SELECT n.nspname FROM pg_namespace n WHERE ${userSchemas} ORDER BY 1`)).map((r) => r.nspname),
    tables,
    columns:
      await q(`SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped AND ${userSchemas} ORDER BY 1, 2, a.attnum`),
    constraints:
      await q(`SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def, convalidated FROM pg_constraint
      WHERE connamespace IN (SELECT n.oid FROM pg_namespace n WHERE ${userSchemas}) ORDER BY 1, 2`),
    policies: await q(
      `SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies ORDER BY 1, 2, 3`,
    ),
    triggers: await q(
      `SELECT tgrelid::regclass::text AS rel, tgname, tgenabled::text AS enabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`,
    ),
    functions: await q(
      `SELECT n.nspname AS schema, p.proname AS name, md5(p.prosrc) AS body FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${userSchemas} ORDER BY 1, 2, 3`,
    ),
    contents,
  };
}

/** What a migration leaves behind: the state schema, org_id columns, backups. */
export async function migrationTraces(
  client: pg.ClientBase,
  orgColumn = 'org_id',
): Promise<{ stateSchema: boolean; orgColumns: string[]; backups: string[] }> {
  const stateSchema =
    (await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_migration'`)).rows.length > 0;
  const orgColumns = (
    await client.query(
      `SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname = $1 AND NOT a.attisdropped AND c.relname <> 'org_members' AND c.relname <> 'legacy_credential_org_map' ORDER BY 1`,
      [orgColumn],
    )
  ).rows.map((r) => r.relname as string);
  const backups = (
    await client.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'tenant_migration' AND c.relname LIKE 'backup\\_%' ORDER BY 1`,
    )
  ).rows.map((r) => r.relname as string);
  return { stateSchema, orgColumns, backups };
}

/** What differs between two digests, as short lines ("+ columns tenant_migration.audit.id", "~ contents public.orgs"). */
export function digestChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const changes: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (Array.isArray(a) && Array.isArray(b)) {
      const left = new Set(a.map((x) => JSON.stringify(x)));
      const right = new Set(b.map((x) => JSON.stringify(x)));
      for (const x of right) if (!left.has(x)) changes.push(`+ ${key} ${x}`);
      for (const x of left) if (!right.has(x)) changes.push(`- ${key} ${x}`);
    } else {
      const left = (a ?? {}) as Record<string, unknown>;
      const right = (b ?? {}) as Record<string, unknown>;
      for (const k of new Set([...Object.keys(left), ...Object.keys(right)])) {
        if (left[k] !== right[k]) changes.push(`${k in left ? (k in right ? '~' : '-') : '+'} ${key} ${k}`);
      }
    }
  }
  return changes;
}

/** Asserts that nothing in the database changed, listing the first changes when something did. */
export function assertSameDigest(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  what = 'the database is exactly as before',
): void {
  const changes = digestChanges(before, after);
  if (changes.length > 0)
    throw new Error(
      `${what}, but ${changes.length} change(s):\n  ${changes.slice(0, 8).join('\n  ')}${changes.length > 8 ? '\n  …' : ''}`,
    );
}
