// Add, select, test and remove connections.
import * as vscode from 'vscode';
import { connectionFromArgs, promptForConnection } from '../connections/add-connection';
import type { Connection } from '../connections/connections';
import { describeProfile } from '../connections/profile';
import { pickConnection } from '../connections/select-connection';
import type { Container } from '../container';
import { ActionableError } from '../errors';
import { assertTrusted } from '../trust';

export interface TestResult {
  readonly ok: boolean;
  readonly message: string;
  readonly serverVersion?: string;
}

/** Interactive, or with a profile (and optional password) as the argument, for automation. */
export async function addConnection(c: Container, args?: unknown): Promise<{ ok: true; name: string } | undefined> {
  const input = args !== undefined ? connectionFromArgs(args) : await promptForConnection(c.connections.profiles);
  if (!input) return undefined;
  await c.connections.save(input.profile, input.password);
  c.log.info(
    `Connection "${input.profile.name}" saved to user settings (${describeProfile(input.profile)}${input.profile.production ? ', production' : ''}); ` +
      (input.password
        ? 'its password is in the secret storage.'
        : 'no password stored (PGPASSWORD or ~/.pgpass apply).'),
  );
  if (args === undefined) void vscode.commands.executeCommand('tenantMigration.testConnection', input.profile.name);
  return { ok: true, name: input.profile.name };
}

export async function selectConnection(c: Container, name?: unknown): Promise<string | undefined> {
  const chosen = typeof name === 'string' ? name : await pickConnection(c.connections);
  if (chosen === undefined) return undefined;
  if (chosen === 'add') {
    const added = await addConnection(c);
    return added?.name;
  }
  await c.connections.select(chosen);
  const selected = c.connections.selected();
  if (!selected)
    throw new ActionableError(`There is no connection named "${chosen}"`, 'Add it, or pick one of your connections.', [
      { title: 'Add Connection', command: 'tenantMigration.addConnection' },
    ]);
  c.log.info(`Selected connection "${selected.name}" (${selected.description})`);
  return selected.name;
}

export async function testConnection(c: Container, name?: unknown): Promise<TestResult> {
  assertTrusted('Test Connection');
  const connection = findConnection(c, name);
  const engine = c.engines.get();
  const info = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Tenant Migration: connecting to ${connection.description}…`,
    },
    () =>
      c.opener.withPassword(connection, true, async (resolved) => {
        const session = await engine.Session.open(resolved.target, {
          applicationName: 'tenant-migration test',
          connectTimeoutMs: 10_000,
        });
        try {
          const { rows } = await session.query<{ version: string; user: string; superuser: boolean; bypass: boolean }>(
            `SELECT current_setting('server_version') AS version, current_user AS user, r.rolsuper AS superuser, r.rolbypassrls AS bypass
             FROM pg_roles r WHERE r.rolname = current_user`,
          );
          return rows[0]!;
        } finally {
          await session.close();
        }
      }),
  );
  const rights = info.superuser
    ? 'superuser'
    : info.bypass
      ? 'BYPASSRLS'
      : 'neither superuser nor BYPASSRLS: validation counts could be filtered by row-level security';
  const message = `Connected to ${connection.description}: PostgreSQL ${info.version} as ${info.user} (${rights}).`;
  c.log.info(message);
  if (info.superuser || info.bypass) void vscode.window.showInformationMessage(message);
  else void vscode.window.showWarningMessage(message);
  return { ok: true, message, serverVersion: info.version };
}

export async function removeConnection(c: Container, name?: unknown): Promise<boolean> {
  let target = typeof name === 'string' ? name : undefined;
  if (!target) {
    const picked = await vscode.window.showQuickPick(
      c.connections.profiles.map((p) => ({ label: p.name, description: describeProfile(p) })),
      { title: 'Tenant Migration: Remove Connection', placeHolder: 'The profile and its stored password are removed' },
    );
    target = picked?.label;
  }
  if (!target) return false;
  if (typeof name !== 'string') {
    const answer = await vscode.window.showWarningMessage(
      `Remove the connection "${target}" and its stored password?`,
      { modal: true },
      'Remove',
    );
    if (answer !== 'Remove') return false;
  }
  await c.connections.remove(target);
  c.log.info(`Connection "${target}" removed`);
  return true;
}

function findConnection(c: Container, name: unknown): Connection {
  const connection = typeof name === 'string' ? c.connections.find(name) : c.connections.selected();
  if (connection) return connection;
  if (typeof name === 'string') {
    throw new ActionableError(`There is no connection named "${name}"`, 'Add it first.', [
      { title: 'Add Connection', command: 'tenantMigration.addConnection' },
    ]);
  }
  throw new ActionableError('No database connection is selected', 'Add a connection, or select one.', [
    { title: 'Add Connection', command: 'tenantMigration.addConnection' },
    { title: 'Select Connection', command: 'tenantMigration.selectConnection' },
  ]);
}
