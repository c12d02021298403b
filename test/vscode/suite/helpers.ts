// Shared by the in-host suites: the extension under test, the test databases (a real PostgreSQL started by
// test/vscode/run-all.mjs), and waiting for things to happen. Nothing here prints a password.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';

export const EXTENSION_ID = 'tenant-migration.tenant-migration';

/** What a Tenant Migration command returns to its caller. */
export type Summary = { ok: boolean; message: string; next?: string; cancelled?: boolean };

export async function extension(): Promise<{ ext: vscode.Extension<TenantMigrationApi>; api: TenantMigrationApi }> {
  const ext = vscode.extensions.getExtension<TenantMigrationApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is loaded as the development extension`);
  const api = await ext.activate();
  return { ext, api };
}

function env(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is set by test/vscode/run-all.mjs`);
  return value;
}

/** The server's superuser URL and the seeded template database (see run-all.mjs). */
export const server = {
  get adminUrl(): string {
    return env('TM_TEST_ADMIN_URL');
  },
  get template(): string {
    return env('TM_TEST_TEMPLATE');
  },
  /** A bigger copy: enough backfill batches for the checklist to show progress. */
  get mediumTemplate(): string {
    return env('TM_TEST_TEMPLATE_MEDIUM');
  },
};

/** The account in the admin URL: host, port, user and password (the password stays in memory). */
export function account(): { host: string; port: number; user: string; password: string } {
  const u = new URL(server.adminUrl);
  return {
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

export function urlFor(database: string): string {
  const u = new URL(server.adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
  database: string,
  text: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client(urlFor(database));
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh copy of the seeded legacy database (CREATE DATABASE … TEMPLATE: fast). */
export async function freshDatabase(label: string, size: 'small' | 'medium' = 'small'): Promise<string> {
  const name = `tm_vsc_${label}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new pg.Client(server.adminUrl);
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(
      `CREATE DATABASE "${name}" TEMPLATE "${size === 'medium' ? server.mediumTemplate : server.template}"`,
    );
  } finally {
    await admin.end();
  }
  return name;
}

/** A credential mapped to a second org: a run refuses at Prerequisites before it writes anything. */
export async function mapCredentialToTwoOrgs(database: string): Promise<void> {
  await query(
    database,
    `INSERT INTO legacy_credential_org_map (credential_id, org_id)
    SELECT 3, id FROM orgs WHERE id <> (SELECT org_id FROM legacy_credential_org_map WHERE credential_id = 3 LIMIT 1) AND id <> '00000000-0000-0000-0000-000000000001' LIMIT 1`,
  );
}

/** Adds a connection profile through the command (the password goes to SecretStorage) and selects it. */
export async function addProfile(name: string, database: string, extra: { production?: boolean } = {}): Promise<void> {
  const a = account();
  const result = await vscode.commands.executeCommand<{ ok: boolean; name: string }>('tenantMigration.addConnection', {
    name,
    host: a.host,
    port: a.port,
    database,
    user: a.user,
    password: a.password,
    sslMode: 'disable',
    ...extra,
  });
  assert.deepEqual(result, { ok: true, name });
  assert.equal(await vscode.commands.executeCommand('tenantMigration.selectConnection', name), name);
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Row {
  label: string;
  description: string;
  icon?: string;
  checkbox?: string;
  contextValue?: string;
  children: Row[];
}

/** The checklist as VS Code gets it from the data provider: labels, descriptions, icons, checkboxes, children. */
export async function checklistRows(api: TenantMigrationApi): Promise<Row[]> {
  const provider = api.checklist;
  const walk = async (element?: unknown): Promise<Row[]> => {
    const nodes = (await provider.getChildren(element as never)) ?? [];
    const rows: Row[] = [];
    for (const node of nodes) {
      const item = await provider.getTreeItem(node);
      rows.push({
        label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''),
        description: typeof item.description === 'string' ? item.description : '',
        icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
        checkbox:
          item.checkboxState === undefined
            ? undefined
            : (typeof item.checkboxState === 'object' ? item.checkboxState.state : item.checkboxState) ===
                vscode.TreeItemCheckboxState.Checked
              ? 'checked'
              : 'unchecked',
        contextValue: item.contextValue,
        children: item.collapsibleState === vscode.TreeItemCollapsibleState.None ? [] : await walk(node),
      });
    }
    return rows;
  };
  return walk();
}
