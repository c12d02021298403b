// Every failure the engine reports carries an exit code for the CLI and a "what to do next" for the user.
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  connection: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorKind = 'failed' | 'usage' | 'refused' | 'connection';

const exitCodeOf: Record<ErrorKind, ExitCode> = { failed: 1, usage: 2, refused: 3, connection: 4 };

export class MigrationError extends Error {
  readonly exitCode: ExitCode;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly next: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'MigrationError';
    this.exitCode = exitCodeOf[kind];
  }

  /** One line: what is wrong, then what to do next. */
  get oneLine(): string {
    return this.next ? `${this.message} — ${this.next}` : this.message;
  }
}

export const usageError = (message: string, next: string, details?: string[]) =>
  new MigrationError('usage', message, next, details);
export const refused = (message: string, next: string, details?: string[]) =>
  new MigrationError('refused', message, next, details);
export const failed = (message: string, next: string, details?: string[]) =>
  new MigrationError('failed', message, next, details);
export const connectionError = (message: string, next: string) => new MigrationError('connection', message, next);
