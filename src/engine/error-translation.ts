// Any error as the MigrationError the user reads: the engine's own as they are, PostgreSQL's through the one table.
import { translatePgError } from './db/pg-errors';
import { MigrationError, failed } from './errors';
import { redact } from './redact';

export function asMigrationError(error: unknown): MigrationError {
  if (error instanceof MigrationError) return error;
  return (
    translatePgError(error) ??
    failed(
      redact(error instanceof Error ? error.message : String(error)),
      'See the log for details; run again once the cause is fixed.',
    )
  );
}
