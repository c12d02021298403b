// npm run demo: an embedded PostgreSQL with a realistic legacy dataset, and the whole guide walked in the terminal.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedServer } from '../test/support/embedded-server';
import { createLegacySchema, seedLegacyData, legacySpec, type DatasetSize } from '../test/fixtures/legacy-data';

const DEMO_SIZE: DatasetSize = { orgs: 12, users: 5_000, credentials: 40_000, reports: 120_000, layouts: 10_000 };
const root = path.resolve(__dirname, '..');
const workspace = path.join(root, '.demo');
const bold = (t: string) => (process.stdout.isTTY ? `\x1b[1m${t}\x1b[0m` : t);

function banner(title: string, text: string): void {
  process.stdout.write(`\n${bold(`── ${title} `.padEnd(78, '─'))}\n${text}\n\n`);
}

function cli(args: string[], env: NodeJS.ProcessEnv): number {
  process.stdout.write(`$ tenant-migrate ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd: workspace, stdio: 'inherit', env });
  return result.status ?? 1;
}

async function main(): Promise<void> {
  // npm run demo -- --vscode: the same demo in a real VS Code in the browser (scripts/demo-vscode.ts).
  if (process.argv.includes('--vscode')) return (await import('./demo-vscode')).demoInVsCode();
  banner('Tenant Migration demo', 'Starting an embedded PostgreSQL 17 and seeding a legacy single-tenant database:\n' +
    `${DEMO_SIZE.orgs} orgs, ${DEMO_SIZE.users} users and memberships, ${DEMO_SIZE.credentials} credentials, ${DEMO_SIZE.reports} reports,\n` +
    `${DEMO_SIZE.layouts} dashboard layouts, and a mapping table with gaps, stale and duplicate rows.`);
  const server = await startEmbeddedServer(17);
  try {
    const admin = new pg.Client(server.adminUrl);
    await admin.connect();
    await admin.query('CREATE DATABASE demo');
    await admin.end();
    const client = new pg.Client(server.urlFor('demo'));
    await client.connect();
    await createLegacySchema(client);
    await seedLegacyData(client, DEMO_SIZE);
    await client.end();

    fs.rmSync(workspace, { recursive: true, force: true });
    fs.mkdirSync(workspace, { recursive: true });
    fs.writeFileSync(path.join(workspace, 'tenant-migration.json'), JSON.stringify(legacySpec({ batchSize: 4000 }), null, 2) + '\n');
    // The password reaches the CLI through the environment, never on a command line or the screen.
    const env = { ...process.env, DATABASE_URL: server.urlFor('demo'), FORCE_COLOR: '1' };

    banner('1. Preview', 'The plan: every statement of the script, the locks it takes, and the mapping gaps. Nothing is written.');
    cli(['plan'], env);
    banner('2. Generate the script', 'The one artifact the team reviews and versions: scripts/migrate_to_multitenant.sql.');
    cli(['generate'], env);
    banner('3. Run', 'Preflight, backup, migrate (batched backfill with live progress), validate, verify isolation, report.');
    const code = cli(['run', '--yes'], env);
    banner('4. Status', 'What the database records, visible from any operator\'s machine.');
    cli(['status'], env);
    banner('Rolling back', [
      'If anything looked wrong, undo the migration and keep every row written since:',
      '  tenant-migrate rollback',
      'and to also restore the data exactly as backed up (refuses if rows written since would be lost):',
      '  tenant-migrate rollback --restore-data',
      `The report is in ${path.relative(root, path.join(workspace, '.tenant-migration/reports/latest.md'))}; the script in ${path.relative(root, path.join(workspace, 'scripts'))}/.`,
    ].join('\n'));
    process.exitCode = code;
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
