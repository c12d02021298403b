// npm run demo -- --vscode: the same demo in a real VS Code in the browser. An embedded PostgreSQL 17 with the
// legacy dataset, the packaged extension installed into code-server (provisioned into .vscode-test/), a workspace
// with tenant-migration.json, and DATABASE_URL in VS Code's environment. Prints the address; runs until Ctrl+C.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startEmbeddedServer } from '../test/support/embedded-server';
import { createLegacySchema, seedLegacyData, legacySpec, type DatasetSize } from '../test/fixtures/legacy-data';

interface VsCodeHost {
  readonly url: string;
  readonly workspace: string;
  readonly page: {
    goto(url: string): Promise<unknown>;
    locator(selector: string): { waitFor(o: { timeout: number }): Promise<void> };
  };
  readonly browser: { close(): Promise<void> };
  close(): Promise<void>;
}
type Harness = {
  startVSCode(options: {
    vsix: string[];
    env: Record<string, string>;
    settings: Record<string, unknown>;
  }): Promise<VsCodeHost>;
  runCommand(page: VsCodeHost['page'], title: string): Promise<void>;
};

const DEMO_SIZE: DatasetSize = { orgs: 12, users: 5_000, credentials: 60_000, reports: 150_000, layouts: 10_000 };
const root = path.resolve(__dirname, '..');
const say = (line: string) => process.stdout.write(`${line}\n`);

export async function demoInVsCode(): Promise<void> {
  say('Tenant Migration demo in VS Code: starting an embedded PostgreSQL 17 and seeding the legacy dataset…');
  const server = await startEmbeddedServer(17);
  let host: VsCodeHost | undefined;
  const stop = async () => {
    await host?.close().catch(() => undefined);
    await server.stop();
  };
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

    say('Packaging the extension (npm run package)…');
    const { packageVsix } = (await import(pathToFileURL(path.join(root, 'scripts/package.mjs')).href)) as {
      packageVsix(o: { out: string; build: boolean }): { file: string };
    };
    const vsix = packageVsix({ out: path.join(root, '.demo/tenant-migration-demo.vsix'), build: true });

    say('Starting VS Code (code-server, provisioned into .vscode-test/ on first use)…');
    const harness = (
      (await import(pathToFileURL(path.join(root, 'test/vscode/harness.js')).href)) as { default: Harness }
    ).default;
    // The password reaches VS Code through its environment (DATABASE_URL), never a settings file or the screen.
    host = await harness.startVSCode({
      vsix: [vsix.file],
      env: { DATABASE_URL: server.urlFor('demo') },
      settings: { 'workbench.colorTheme': 'Default Dark Modern' },
    });
    fs.writeFileSync(
      path.join(host.workspace, 'tenant-migration.json'),
      `${JSON.stringify(legacySpec({ batchSize: 4000 }), null, 2)}\n`,
    );
    // A headless browser checks that the workbench loads and the extension answers, then steps aside.
    await host.page.goto(host.url);
    await host.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await harness.runCommand(host.page, 'Tenant Migration: Focus on Checklist View');
    await host.page.locator('.monaco-list-row[aria-label^="Prerequisites"]').waitFor({ timeout: 60_000 });
    await host.browser.close();

    say('');
    say(`  VS Code with Tenant Migration is ready:  ${host.url}`);
    say('');
    say(
      '  Open the address in a browser on this machine (it listens on 127.0.0.1 only, without a password: forward the',
    );
    say(
      '  port with ssh -L to reach it from elsewhere). The database "demo" is the connection (DATABASE_URL, status bar).',
    );
    say(
      '  Try: the Tenant Migration view in the activity bar; F1 → "Tenant Migration: Preview Plan", then "Tenant Migration: Run".',
    );
    say('  Press Ctrl+C to stop VS Code and the database.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    say('\nStopping…');
  } finally {
    await stop();
  }
  say('Stopped.');
}
