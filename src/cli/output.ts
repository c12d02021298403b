// --json: one JSON document on stdout, versioned. Its shape is documented in the README.
import type { MigrationError } from '../engine/errors';
import { redact } from '../engine/redact';

export const JSON_SCHEMA_VERSION = 1;

export interface JsonOutput {
  readonly schemaVersion: 1;
  readonly command: string;
  readonly ok: boolean;
  readonly exitCode: number;
  readonly error: { readonly message: string; readonly next: string; readonly details: readonly string[] } | null;
  readonly result: unknown;
}

export function jsonDocument(command: string, exitCode: number, result: unknown, error?: MigrationError): string {
  const doc: JsonOutput = {
    schemaVersion: JSON_SCHEMA_VERSION,
    command,
    ok: exitCode === 0,
    exitCode,
    error: error ? { message: error.message, next: error.next, details: error.details } : null,
    result: result ?? null,
  };
  return redact(JSON.stringify(doc, null, 2));
}
