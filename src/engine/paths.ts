// Where a migration's files are: everything relative is relative to the spec's folder (the current directory when
// the spec was given as an object).
import path from 'node:path';
import type { LoadedSpec } from './migration-spec/load';
import { pathInside } from './migration-spec/paths';

export function specFolder(spec: LoadedSpec): string {
  return spec.file ? path.dirname(spec.file) : process.cwd();
}

/** The JSONL logs (runs/) and the reports (reports/): .tenant-migration beside the spec unless given. */
export function workFolder(spec: LoadedSpec, given?: string): string {
  // A symlink in an untrusted workspace must not send the logs and reports elsewhere.
  return given ?? pathInside(specFolder(spec), '.tenant-migration', 'The folder for logs and reports');
}

/** The script as the report names it: relative to the spec's folder. */
export function scriptPathForReport(spec: LoadedSpec): string {
  return path.relative(specFolder(spec), spec.scriptPath);
}
