// "Add Connection": asks for a profile step by step (or takes one as the command's argument, for automation).
// The password goes to SecretStorage; the profile, without it, to user settings.
import * as vscode from 'vscode';
import * as z from 'zod/mini';
import { parseConnectionUrl } from '../../engine/db/connection-options';
import { SSL_MODES, profileSchema, type Profile, type SslMode } from './profile';

export const addConnectionArgs = z.extend(profileSchema, { password: z.optional(z.string()) });

export interface NewConnection {
  readonly profile: Profile;
  readonly password?: string;
}

/** Validates a programmatic argument; throws with the bad field named. */
export function connectionFromArgs(args: unknown): NewConnection {
  const parsed = addConnectionArgs.safeParse(args);
  if (!parsed.success)
    throw new Error(
      `Invalid connection: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')}`,
    );
  const { password, ...profile } = parsed.data;
  return { profile, password: password || undefined };
}

const STEPS = 7;
const required = (what: string) => (v: string) => (v.trim() ? undefined : `Enter the ${what}.`);

export async function promptForConnection(existing: readonly Profile[]): Promise<NewConnection | undefined> {
  const title = (n: number) => `Tenant Migration: Add Connection (${n}/${STEPS})`;
  const ask = (n: number, options: vscode.InputBoxOptions) =>
    vscode.window.showInputBox({ title: title(n), ignoreFocusOut: true, ...options });

  const first = await ask(1, {
    prompt: 'Host name, or a whole postgresql:// URL',
    value: 'localhost',
    validateInput: validateHostOrUrl,
  });
  if (first === undefined) return undefined;
  let host = first.trim();
  let port = 5432;
  let database = '';
  let user = 'postgres';
  let password: string | undefined;
  let sslMode: SslMode = 'prefer';
  const fromUrl = /^postgres(ql)?:\/\//i.test(host);
  if (fromUrl) {
    const t = parseConnectionUrl(host);
    ({ host, port, database, user, password, sslMode } = t);
  } else {
    const portText = await ask(2, {
      prompt: 'Port',
      value: '5432',
      validateInput: (v) =>
        /^\d+$/.test(v) && +v >= 1 && +v <= 65535 ? undefined : 'A port is a number from 1 to 65535.',
    });
    if (portText === undefined) return undefined;
    port = Number(portText);
    const db = await ask(3, { prompt: 'Database name', validateInput: required('database name') });
    if (db === undefined) return undefined;
    database = db.trim();
    const u = await ask(4, { prompt: 'User', value: user, validateInput: required('user name') });
    if (u === undefined) return undefined;
    user = u.trim();
    const pw = await ask(5, {
      prompt:
        "Password (stored in VS Code's secret storage, never in settings). Leave empty to use PGPASSWORD or ~/.pgpass.",
      password: true,
    });
    if (pw === undefined) return undefined;
    password = pw || undefined;
    const ssl = await vscode.window.showQuickPick(
      SSL_MODES.map((m) => ({
        label: m,
        picked: m === 'prefer',
        description: m === 'prefer' ? 'default: SSL when the server offers it' : undefined,
      })),
      { title: title(6), placeHolder: "SSL mode (as libpq's sslmode)", ignoreFocusOut: true },
    );
    if (!ssl) return undefined;
    sslMode = ssl.label;
  }
  const kind = await vscode.window.showQuickPick(
    [
      { label: '$(beaker) Not production', description: 'development, staging or a rehearsal copy', production: false },
      {
        label: '$(warning) Production',
        description: 'writing steps ask you to type the database name',
        production: true,
      },
    ],
    { title: title(STEPS - 1), placeHolder: 'Is this a production database?', ignoreFocusOut: true },
  );
  if (!kind) return undefined;
  const taken = new Set(existing.map((p) => p.name));
  const name = await ask(STEPS, {
    prompt: 'A name for this connection',
    value: `${database}${kind.production ? ' (production)' : ''} on ${host}`,
    validateInput: (v) =>
      !v.trim()
        ? 'Enter a name.'
        : taken.has(v.trim())
          ? `A connection named "${v.trim()}" exists; choose another name.`
          : undefined,
  });
  if (name === undefined) return undefined;
  return connectionFromArgs({
    name: name.trim(),
    host,
    port,
    database,
    user,
    sslMode,
    production: kind.production,
    password,
  });
}

function validateHostOrUrl(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'Enter a host name or a postgresql:// URL.';
  if (/^postgres(ql)?:\/\//i.test(v)) {
    try {
      parseConnectionUrl(v);
    } catch (e) {
      return (e as Error).message;
    }
  } else if (/[\s/]/.test(v)) {
    return 'A host name has no spaces or slashes (or paste a whole postgresql:// URL).';
  }
  return undefined;
}
