// Opens the engine for the workspace's spec and the selected connection: the one way anything reaches a database.
// Refuses in an untrusted workspace; asks for a missing or wrong password when interactive, and stores it in
// SecretStorage once it works.
import * as vscode from 'vscode';
import type { EngineEvent } from '../../engine/events';
import type { Migration } from '../../engine/migration';
import type { Connection, ConnectionService, ResolvedConnection } from '../connections/connections';
import type { Engine, EngineLoader } from '../engine';
import { ActionableError } from '../errors';
import type { ExtensionLog } from '../log';
import type { SpecFile } from '../spec-file';
import { assertTrusted } from '../trust';

export interface OpenOptions {
  /** "Run", "Preview Plan", … (for messages). */
  readonly action: string;
  /** May ask the user for a password. */
  readonly interactive: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
}

export interface OpenedMigration {
  readonly engine: Engine;
  readonly migration: Migration;
  readonly resolved: ResolvedConnection;
}

export class MigrationOpener {
  constructor(
    private readonly engines: EngineLoader,
    private readonly specFile: SpecFile,
    private readonly connections: ConnectionService,
    private readonly log: ExtensionLog,
  ) {}

  async open(options: OpenOptions): Promise<OpenedMigration> {
    assertTrusted(options.action);
    const specUri = this.specFile.uri;
    if (!specUri) {
      throw new ActionableError(
        'There is no tenant-migration.json in this workspace',
        'Create one: it names the tables and how each row gets its org.',
        [{ title: 'Create tenant-migration.json', command: 'tenantMigration.createSpec' }],
      );
    }
    const connection = this.connections.selected();
    if (!connection) {
      throw new ActionableError(
        'No database connection is selected',
        'Add a connection (its password goes to the secret storage), or select one.',
        [
          { title: 'Add Connection', command: 'tenantMigration.addConnection' },
          { title: 'Select Connection', command: 'tenantMigration.selectConnection' },
        ],
      );
    }
    const engine = this.engines.get();
    const spec = engine.loadSpec(specUri.fsPath);
    return this.withPassword(connection, options.interactive, async (resolved) => {
      this.log.info(
        `Connecting to ${connection.description} ("${connection.name}"${connection.production ? ', a production database' : ''}) for ${options.action}`,
      );
      const migration = await engine.Migration.connect({
        database: resolved.target,
        spec,
        onEvent: options.onEvent,
        signal: options.signal,
        logger: this.log,
        databaseUrlForTests: resolved.url,
      });
      return { engine, migration, resolved };
    });
  }

  /**
   * Connects with the stored password (or none: PGPASSWORD and ~/.pgpass still apply). When that is refused and the
   * caller may ask, asks for the password, and stores it once the connection works.
   */
  async withPassword<T>(
    connection: Connection,
    interactive: boolean,
    attempt: (resolved: ResolvedConnection) => Promise<T>,
  ): Promise<T> {
    try {
      return await attempt(await this.connections.resolve(connection));
    } catch (error) {
      if (!interactive || connection.kind !== 'profile' || !isPasswordProblem(error)) throw error;
      const password = await vscode.window.showInputBox({
        title: `Tenant Migration: password for ${connection.description}`,
        password: true,
        ignoreFocusOut: true,
        prompt: `${(error as Error).message}. Enter the password: it is stored in VS Code's secret storage once the connection works.`,
      });
      if (!password) throw error;
      const result = await attempt(await this.connections.resolve(connection, password));
      await this.connections.storePassword(connection.profile, password);
      this.log.info(`The password for ${connection.description} is stored in the secret storage.`);
      return result;
    }
  }

  /** Opens, runs fn, and always closes the connection. */
  async with<T>(options: OpenOptions, fn: (opened: OpenedMigration) => Promise<T>): Promise<T> {
    const opened = await this.open(options);
    try {
      return await fn(opened);
    } finally {
      await opened.migration.close();
    }
  }
}

function isPasswordProblem(error: unknown): boolean {
  const e = error as { kind?: string; message?: string };
  return e?.kind === 'connection' && /password/i.test(e.message ?? '');
}
