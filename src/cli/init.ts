// tenant-migrate init: a spec for the guide's tables and the guide's validation queries as a checks file.
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../engine/errors';
import { GUIDE_CHECKS, GUIDE_SPEC } from '../engine/migration-spec/template';

export { GUIDE_CHECKS, GUIDE_SPEC };

export function writeInitFiles(specPath: string, force: boolean): string[] {
  const folder = path.dirname(path.resolve(specPath));
  const checks = path.join(folder, 'checks.sql');
  const written: string[] = [];
  for (const [file, text] of [
    [path.resolve(specPath), JSON.stringify(GUIDE_SPEC, null, 2) + '\n'],
    [checks, GUIDE_CHECKS],
  ] as const) {
    if (fs.existsSync(file) && !force) throw usageError(`${file} exists`, 'Keep it, or pass --force to overwrite it.');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    written.push(file);
  }
  return written;
}
