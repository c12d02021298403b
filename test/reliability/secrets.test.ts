// Secrets: a full migration through the CLI as a login role with a known, distinctive password (one that needs
// URL-encoding), plus the commands around it and failing ones (a wrong database name, a closed port, the password from
// PGPASSWORD) and a project test command that prints its DATABASE_URL. Then every file in the workspace, every row of
// every table in tenant_migration (audit, runs, steps, …), the role settings and every byte the CLI printed are
// searched for the password, raw, URL-encoded and SQL-quoted: zero hits.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { figures } from './support/figures';
import { cloneDatabase, templateDatabase } from './support/databases';
import { adminQuery } from '../support/database';
import { buildCli, Workspace, type CliResult } from '../support/cli';
import { legacySpec, SMALL } from '../fixtures/legacy-data';

const fig = figures(__filename);

/** Every form the password could take in a file, a log line, a URL or an SQL literal. */
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

function hits(text: string, forms: string[]): string[] {
  const found: string[] = [];
  for (const form of forms) {
    let at = text.indexOf(form);
    while (at !== -1) {
      found.push(text.slice(Math.max(0, at - 60), at + form.length + 20).replace(/\n/g, '⏎'));
      at = text.indexOf(form, at + 1);
    }
  }
  return found;
}

describe('secrets: the password appears in no file, no database row and no output', function () {
  this.timeout(180_000);
  let template: string;
  before(async () => {
    template = await templateDatabase(SMALL);
    await buildCli();
  });

  it('a full migration and the commands around it, through the CLI, with a distinctive password', async () => {
    const suffix = crypto.randomBytes(6).toString('hex');
    const role = `tm_secret_owner_${suffix}`;
    // Needs URL-encoding (@ : / ? # % & = + space) and SQL quoting ('), and is long enough to be unmistakable.
    const password = `Tm'S3cr3t p@ss:w/rd?#%&=+${suffix}`;
    const forms = needles(password);
    const db = await cloneDatabase(template);
    const ws = new Workspace(
      legacySpec({
        batchSize: 100,
        // A project test that prints the connection it is given (the engine passes DATABASE_URL through to it).
        tests: [
          {
            name: 'prints its connection',
            command: `node -e "const u = new URL(process.env.DATABASE_URL); console.log('DATABASE_URL=' + u.href); console.error('password=' + decodeURIComponent(u.password))"`,
          },
        ],
      }),
    );
    const outputs: { args: string; result: CliResult }[] = [];
    try {
      await adminQuery(`CREATE ROLE "${role}" LOGIN SUPERUSER PASSWORD '${password.replace(/'/g, "''")}'`);
      const url = new URL(db.url);
      url.username = role;
      url.password = encodeURIComponent(password);
      const good = url.toString();
      const wrongDb = new URL(good);
      wrongDb.pathname = `/tm_no_such_db_${suffix}`;
      const closedPort = new URL(good);
      closedPort.port = '1';
      const noPassword = new URL(wrongDb.toString());
      noPassword.password = '';

      const run = async (args: string[], env: Record<string, string>, expect: number) => {
        const result = await ws.run(args, env);
        outputs.push({ args: args.join(' '), result });
        assert.equal(result.code, expect, `${args.join(' ')}: exit ${result.code}\n${result.stderr.slice(-1500)}`);
        return result;
      };
      await run(['plan'], { DATABASE_URL: good }, 0);
      await run(['tick', 'full-dump', 'users-notified', 'script-reviewed'], { DATABASE_URL: good }, 0);
      await run(['run', '--yes'], { DATABASE_URL: good }, 0);
      await run(['status', '--json'], { DATABASE_URL: good }, 0);
      await run(['validate', '--json'], { DATABASE_URL: good }, 0);
      await run(['verify-isolation'], { DATABASE_URL: good }, 0);
      await run(['report'], { DATABASE_URL: good }, 0);
      await run(['run', '--yes', '--json', '--database-url', good], {}, 0);
      await run(['migrate', '--yes'], { DATABASE_URL: wrongDb.toString() }, 4);
      await run(['status', '--json'], { DATABASE_URL: wrongDb.toString() }, 4);
      await run(['plan'], { DATABASE_URL: noPassword.toString(), PGPASSWORD: password }, 4);
      await run(['validate'], { DATABASE_URL: closedPort.toString() }, 4);
      await run(['rollback', '--yes', '--json'], { DATABASE_URL: good }, 0);
      assert.match(
        outputs.find((o) => o.args === 'migrate --yes')!.result.stderr,
        /Database "tm_no_such_db_\w+" does not exist/,
        'the failing command failed for the wrong database name',
      );

      // The project test really received the password (so the engine had it to leak), and its output was captured.
      const log = fs
        .readdirSync(ws.file('.tenant-migration/runs'))
        .map((f) => fs.readFileSync(ws.file(`.tenant-migration/runs/${f}`), 'utf8'))
        .join('\n');
      assert.match(
        log,
        /DATABASE_URL=postgresql:\/\/tm_secret_owner_\w+:/,
        "the test command's output reached the run log",
      );

      const found: string[] = [];
      let fileBytes = 0;
      const files = ws.files();
      for (const f of files) {
        const text = fs.readFileSync(path.join(ws.dir, f), 'utf8');
        fileBytes += Buffer.byteLength(text);
        found.push(...hits(text, forms).map((h) => `${f}: ${h}`));
      }
      let outputBytes = 0;
      for (const o of outputs) {
        outputBytes += Buffer.byteLength(o.result.stdout) + Buffer.byteLength(o.result.stderr);
        found.push(...hits(o.result.stdout + o.result.stderr, forms).map((h) => `output of ${o.args}: ${h}`));
      }
      const tables = (
        await db.client
          .query(`SELECT format('%I.%I', n.nspname, c.relname) AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'tenant_migration' AND c.relkind = 'r' ORDER BY 1`)
      ).rows.map((r) => r.rel as string);
      for (const must of ['audit', 'runs', 'steps'])
        assert.ok(tables.includes(`tenant_migration.${must}`), `tenant_migration.${must} exists`);
      let databaseRows = 0;
      let databaseBytes = 0;
      for (const rel of [...tables, 'pg_catalog.pg_db_role_setting']) {
        const { rows } = await db.client.query(`SELECT t::text AS row FROM ${rel} t`);
        databaseRows += rows.length;
        for (const r of rows) {
          databaseBytes += Buffer.byteLength(r.row);
          found.push(...hits(r.row, forms).map((h) => `${rel}: ${h}`));
        }
      }
      const auditRows = Number((await db.client.query(`SELECT count(*) AS n FROM tenant_migration.audit`)).rows[0].n);
      fig.record({
        kind: 'secrets',
        via: 'CLI',
        commands: outputs.length,
        files: files.length,
        fileBytes,
        databaseRows,
        databaseBytes,
        outputBytes,
        hits: found.length,
      });
      assert.ok(
        files.some((f) => f.endsWith('.jsonl')) && files.some((f) => f.startsWith('.tenant-migration/reports/report-')),
        `logs and reports were searched: ${files.join(', ')}`,
      );
      assert.ok(auditRows > 50, `the audit log was searched (${auditRows} rows)`);
      assert.deepEqual(found, [], 'the password was found');
    } finally {
      ws.remove();
      await db.drop();
      await adminQuery(`DROP ROLE IF EXISTS "${role}"`);
    }
  });
});
