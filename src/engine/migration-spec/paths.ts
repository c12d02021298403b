// Files the tool writes or runs in, named by a workspace file: inside the spec's folder, never outside it (an
// untrusted workspace must not make `generate` or a report write elsewhere, through `..`, an absolute path or a symlink).
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors';

/** The real path of the deepest part of `target` that exists, with the rest appended. */
function realPathOfExisting(target: string): string {
  let existing = target;
  const rest: string[] = [];
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    rest.unshift(path.basename(existing));
    existing = parent;
  }
  return path.join(fs.realpathSync(existing), ...rest);
}

const within = (folder: string, target: string) => {
  const relative = path.relative(folder, target);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
};

/** `relative` resolved against `folder`; refused when it leaves the folder, by its text or by a symlink on the way. */
export function pathInside(folder: string, relative: string, field: string): string {
  const target = path.resolve(folder, relative);
  if (
    !within(folder, target) ||
    (fs.existsSync(folder) && !within(fs.realpathSync(folder), realPathOfExisting(target)))
  ) {
    throw usageError(
      `${field}: "${relative}" leaves the spec's folder ${folder}`,
      'Name a path inside the folder of tenant-migration.json (for example scripts/migrate_to_multitenant.sql).',
    );
  }
  return target;
}
