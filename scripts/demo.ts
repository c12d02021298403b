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
  const result = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), ...args], {
    cwd: workspace,
    stdio: 'inherit',
    env,
  });
  return result.status ?? 1;
}

/** What to try after the demo: every line works as printed (the demo's database is gone by then). */
function nextSteps(): string[] {
  const cliPath = path.join(root, 'dist/cli.js');
  return [
    'The same walk-through in VS Code (code-server in your browser, set up on first use):',
    '  npm run demo -- --vscode',
    `What the demo wrote: the report ${path.relative(process.cwd(), path.join(workspace, '.tenant-migration/reports/latest.md'))} and the script in ${path.relative(process.cwd(), path.join(workspace, 'scripts'))}/.`,
    "On your own database, in your project's folder (init writes tenant-migration.json and checks.sql; plan writes nothing):",
    `  node ${cliPath} init`,
    `  DATABASE_URL=postgres://user@host:5432/db node ${cliPath} plan`,
    '  (npm link puts tenant-migrate on your PATH.)',
  ];
}

async function main(): Promise<void> {
  // npm run demo -- --vscode: the same demo in a real VS Code in the browser (scripts/demo-vscode.ts).
  if (process.argv.includes('--vscode')) return (await import('./demo-vscode')).demoInVsCode();
  banner(
    'Tenant Migration demo',
    'Starting an embedded PostgreSQL 17 and seeding a legacy single-tenant database:\n' +
      `${DEMO_SIZE.orgs} orgs, ${DEMO_SIZE.users} users and memberships, ${DEMO_SIZE.credentials} credentials, ${DEMO_SIZE.reports} reports,\n` +
      `${DEMO_SIZE.layouts} dashboard layouts, and a mapping table with gaps, stale and duplicate rows.`,
  );
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
    fs.writeFileSync(
      path.join(workspace, 'tenant-migration.json'),
      JSON.stringify(legacySpec({ batchSize: 4000 }), null, 2) + '\n',
    );
    // The password reaches the CLI through the environment, never on a command line or the screen.
    const env = { ...process.env, DATABASE_URL: server.urlFor('demo'), FORCE_COLOR: '1' };

    banner(
      '1. Preview',
      'The plan: every statement of the script, the locks it takes, and the mapping gaps. Nothing is written.',
    );
    cli(['plan'], env);
    banner(
      '2. Generate the script',
      'The one artifact the team reviews and versions: scripts/migrate_to_multitenant.sql.',
    );
    cli(['generate'], env);
    banner(
      '3. Tick the manual prerequisites',
      'On your database: take the dump, tell the users, review the script, then tick them. Writing commands refuse until then.',
    );
    cli(['tick', 'full-dump', 'users-notified', 'script-reviewed'], env);
    banner(
      '4. Run',
      'Preflight, backup, migrate (batched backfill with live progress), validate, verify isolation, report.',
    );
    const code = cli(['run', '--yes'], env);
    banner('5. Status', "What the database records, visible from any operator's machine.");
    cli(['status'], env);
    banner(
      '6. Roll back',
      'Undo the migration, keeping every row written since (--restore-data would also restore the backups).',
    );
    const undone = cli(['rollback', '--yes'], env);
    cli(['status'], env);
    banner('Next steps', nextSteps().join('\n'));
    process.exitCode = code || undone;
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
