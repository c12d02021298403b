// The one place settings are read. Validated once per change; consumers get a typed, frozen object.
// Connection profiles and the safety switches are read from USER settings only (inspect().globalValue): a
// workspace (a cloned repository) must never be able to point a stored password at a host of its choosing.
import * as vscode from 'vscode';
import * as z from 'zod/mini';
import { Disposable } from './lifecycle';
import { profileSchema, type Profile } from './connections/profile';
import type { ExtensionLog } from './log';

export const SECTION = 'tenantMigration';

export interface Settings {
  readonly connections: readonly Profile[];
  /** The spec file, relative to the workspace folder. */
  readonly specFile: string;
  /** Treat DATABASE_URL from the environment as a production database. */
  readonly databaseUrlIsProduction: boolean;
  readonly showStatusBar: boolean;
  readonly sqlEditor: SqlEditorSettings;
  readonly lint: LintSettings;
}

/** The migration lint, as squawk users set it up (docs/lint.md). */
export interface LintSettings {
  readonly postgresVersion: number;
  readonly assumeInTransaction: boolean;
  /** Rules on (true) or off (false) by id or squawk's name. */
  readonly rules: Readonly<Record<string, boolean>>;
}

export interface SqlEditorSettings {
  /** Glob patterns (relative to a workspace folder) of the SQL files that get CodeLens, results and lint. */
  readonly files: readonly string[];
  readonly statementTimeoutMs: number;
  /** The role "Run as tenant…" uses; empty: Supabase's authenticated. */
  readonly tenantRole: string;
  /** Rows at or above this estimate make a table large for the lint. */
  readonly largeTableRows: number;
}

export const SQL_FILES_DEFAULT = ['**/checks.sql', '**/*.checks.sql', '**/migrate_to_multitenant.sql'];

const specFileSchema = z._default(z.string().check(z.trim(), z.minLength(1)), 'tenant-migration.json');
const flag = (fallback: boolean) => z._default(z.boolean(), fallback);

export class SettingsAdapter extends Disposable {
  private current: Settings;
  private readonly changed = this.register(new vscode.EventEmitter<Settings>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: ExtensionLog) {
    super();
    this.current = this.read();
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        this.current = this.read();
        this.changed.fire(this.current);
      }),
    );
  }

  get value(): Settings {
    return this.current;
  }

  /** Writes the profiles to the user settings (the only place they are read from). */
  async saveConnections(profiles: readonly Profile[]): Promise<void> {
    await vscode.workspace
      .getConfiguration(SECTION)
      .update('connections', profiles.map(withoutDefaults), vscode.ConfigurationTarget.Global);
    this.current = this.read();
  }

  private read(): Settings {
    const config = vscode.workspace.getConfiguration(SECTION);
    const userValue = <T>(key: string) => config.inspect<T>(key)?.globalValue;
    const ignored = config.inspect('connections');
    if (ignored?.workspaceValue !== undefined || ignored?.workspaceFolderValue !== undefined) {
      this.log.warn(
        'tenantMigration.connections in workspace settings is ignored: connection profiles are read from user settings only.',
      );
    }
    return Object.freeze({
      connections: this.profiles(userValue<unknown>('connections')),
      specFile: this.valid('specFile', specFileSchema, config.get('specFile'), 'tenant-migration.json'),
      databaseUrlIsProduction: this.valid(
        'databaseUrlIsProduction',
        flag(false),
        userValue('databaseUrlIsProduction'),
        false,
      ),
      showStatusBar: this.valid('showStatusBar', flag(true), config.get('showStatusBar'), true),
      sqlEditor: Object.freeze({
        files: this.valid(
          'sqlEditor.files',
          z._default(z.array(z.string().check(z.minLength(1))), SQL_FILES_DEFAULT),
          config.get('sqlEditor.files'),
          SQL_FILES_DEFAULT,
        ),
        statementTimeoutMs: this.valid(
          'sqlEditor.statementTimeoutMs',
          z._default(z.int().check(z.gte(100), z.lte(3_600_000)), 30_000),
          config.get('sqlEditor.statementTimeoutMs'),
          30_000,
        ),
        tenantRole: this.valid(
          'sqlEditor.tenantRole',
          z._default(z.string(), ''),
          config.get('sqlEditor.tenantRole'),
          '',
        ),
        largeTableRows: this.valid(
          'sqlEditor.largeTableRows',
          z._default(z.int().check(z.gte(0)), 10_000),
          config.get('sqlEditor.largeTableRows'),
          10_000,
        ),
      }),
      lint: Object.freeze({
        postgresVersion: this.valid(
          'lint.postgresVersion',
          z._default(z.int().check(z.gte(10), z.lte(18)), 15),
          config.get('lint.postgresVersion'),
          15,
        ),
        assumeInTransaction: this.valid(
          'lint.assumeInTransaction',
          flag(false),
          config.get('lint.assumeInTransaction'),
          false,
        ),
        rules: this.valid(
          'lint.rules',
          z._default(z.record(z.string(), z.boolean()), {}),
          config.get('lint.rules'),
          {},
        ),
      }),
    });
  }

  private profiles(raw: unknown): Profile[] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
      this.log.warn('tenantMigration.connections must be a list of profiles; ignoring it.');
      return [];
    }
    const out: Profile[] = [];
    raw.forEach((entry, i) => {
      const parsed = profileSchema.safeParse(entry);
      if (!parsed.success) {
        this.log.warn(`tenantMigration.connections[${i}] is ignored: ${describeIssues(parsed.error)}`);
      } else if (out.some((p) => p.name === parsed.data.name)) {
        this.log.warn(`tenantMigration.connections[${i}] is ignored: the name "${parsed.data.name}" is used twice.`);
      } else {
        out.push(parsed.data);
      }
    });
    return out;
  }

  private valid<T>(key: string, schema: z.ZodMiniType<T>, raw: unknown, fallback: T): T {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.log.warn(
      `tenantMigration.${key} is invalid (${describeIssues(parsed.error)}); using ${JSON.stringify(fallback)}.`,
    );
    return fallback;
  }
}

function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`).join('; ');
}

/** Keeps user settings tidy: defaults are not written out. */
function withoutDefaults(p: Profile): Record<string, unknown> {
  return {
    name: p.name,
    host: p.host,
    ...(p.port === 5432 ? {} : { port: p.port }),
    database: p.database,
    user: p.user,
    ...(p.sslMode === 'prefer' ? {} : { sslMode: p.sslMode }),
    ...(p.sslRootCert ? { sslRootCert: p.sslRootCert } : {}),
    ...(p.production ? { production: true } : {}),
  };
}
