// The selected connection: a profile from user settings (password from SecretStorage), or DATABASE_URL from the
// environment. The selection itself (a profile name) is remembered per workspace; it holds no secret.
import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import { parseConnectionUrl, type ConnectionTarget } from '../../engine/db/connection-options';
import type { SettingsAdapter } from '../settings';
import { describeProfile, secretKey, type Profile } from './profile';
import type { PasswordStore } from './secrets';

const SELECTED = 'tenantMigration.selectedConnection';
export const ENVIRONMENT = '$DATABASE_URL';

export type Connection =
  | {
      readonly kind: 'profile';
      readonly name: string;
      readonly profile: Profile;
      readonly production: boolean;
      readonly description: string;
    }
  | { readonly kind: 'environment'; readonly name: string; readonly production: boolean; readonly description: string };

export interface ResolvedConnection {
  readonly connection: Connection;
  readonly target: ConnectionTarget;
  /** For the spec's test commands (DATABASE_URL in their environment); never logged. */
  readonly url: string;
}

export class ConnectionService extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<Connection | undefined>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly settings: SettingsAdapter,
    private readonly passwords: PasswordStore,
    private readonly workspaceState: vscode.Memento,
    private readonly environment: NodeJS.ProcessEnv = process.env,
  ) {
    super();
    this.register(settings.onDidChange(() => this.changed.fire(this.selected())));
  }

  get profiles(): readonly Profile[] {
    return this.settings.value.connections;
  }

  get environmentUrl(): string | undefined {
    return this.environment.DATABASE_URL || undefined;
  }

  /** The selected connection; with none selected, DATABASE_URL when the environment has it. */
  selected(): Connection | undefined {
    const name = this.workspaceState.get<string>(SELECTED);
    return name === undefined ? this.fromEnvironment() : this.find(name);
  }

  /** A connection by profile name (or ENVIRONMENT / "DATABASE_URL" for the environment's). */
  find(name: string): Connection | undefined {
    if (name === ENVIRONMENT || name === 'DATABASE_URL') return this.fromEnvironment();
    const profile = this.profiles.find((p) => p.name === name);
    return profile ? fromProfile(profile) : undefined;
  }

  async select(name: string): Promise<void> {
    await this.workspaceState.update(SELECTED, name);
    this.changed.fire(this.selected());
  }

  async save(profile: Profile, password: string | undefined): Promise<void> {
    if (password) await this.passwords.set(profile, password);
    await this.settings.saveConnections([...this.profiles.filter((p) => p.name !== profile.name), profile]);
    await this.select(profile.name);
  }

  async remove(name: string): Promise<void> {
    const profile = this.profiles.find((p) => p.name === name);
    if (!profile) return;
    const rest = this.profiles.filter((p) => p.name !== name);
    await this.settings.saveConnections(rest);
    if (!rest.some((p) => secretKey(p) === secretKey(profile))) await this.passwords.delete(profile);
    if (this.workspaceState.get(SELECTED) === name) await this.workspaceState.update(SELECTED, undefined);
    this.changed.fire(this.selected());
  }

  storePassword(profile: Profile, password: string): Promise<void> {
    return this.passwords.set(profile, password);
  }

  /** The target to connect to, with the stored password (or none: PGPASSWORD and ~/.pgpass still apply). */
  async resolve(connection: Connection, password?: string): Promise<ResolvedConnection> {
    if (connection.kind === 'environment') {
      const url = this.environmentUrl;
      if (!url) throw new Error('DATABASE_URL is no longer set in the environment of VS Code.');
      return { connection, target: parseConnectionUrl(url), url };
    }
    const p = connection.profile;
    const secret = password ?? (await this.passwords.get(p));
    const target: ConnectionTarget = {
      host: p.host,
      port: p.port,
      database: p.database,
      user: p.user,
      password: secret,
      sslMode: p.sslMode,
      sslRootCert: p.sslRootCert,
    };
    return { connection, target, url: toUrl(target) };
  }

  private fromEnvironment(): Connection | undefined {
    const url = this.environmentUrl;
    if (!url) return undefined;
    let description = 'DATABASE_URL (not a valid postgresql:// URL)';
    try {
      const t = parseConnectionUrl(url);
      description = `${t.user}@${t.host}:${t.port}/${t.database}`;
    } catch {
      // Shown as invalid; connecting reports the parse error with what to do next.
    }
    return {
      kind: 'environment',
      name: 'DATABASE_URL',
      production: this.settings.value.databaseUrlIsProduction,
      description,
    };
  }
}

function fromProfile(profile: Profile): Connection {
  return {
    kind: 'profile',
    name: profile.name,
    profile,
    production: profile.production,
    description: describeProfile(profile),
  };
}

function toUrl(t: ConnectionTarget): string {
  const auth = `${encodeURIComponent(t.user)}${t.password ? `:${encodeURIComponent(t.password)}` : ''}`;
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  const query = new URLSearchParams({ sslmode: t.sslMode, ...(t.sslRootCert ? { sslrootcert: t.sslRootCert } : {}) });
  return `postgresql://${auth}@${host}:${t.port}/${encodeURIComponent(t.database)}?${query}`;
}
