// The script file the team reviews (the spec's scriptPath): read, or generated from the spec.
import fs from 'node:fs';
import path from 'node:path';
import type { MigrationModel } from '../model';
import type { LoadedSpec } from '../migration-spec/load';
import { generateScript } from './generate';

/** Theirs when it exists, else generated from the spec (not written). */
export async function readScript(
  spec: LoadedSpec,
  model: () => Promise<MigrationModel>,
): Promise<{ text: string; exists: boolean }> {
  const file = spec.scriptPath;
  if (fs.existsSync(file)) return { text: fs.readFileSync(file, 'utf8'), exists: true };
  return { text: generateScript(await model()), exists: false };
}

/** Writes the script generated from the spec, unless one exists and `force` is not given. */
export async function writeScript(
  spec: LoadedSpec,
  model: () => Promise<MigrationModel>,
  force: boolean,
): Promise<{ path: string; written: boolean }> {
  const file = spec.scriptPath;
  if (fs.existsSync(file) && !force) return { path: file, written: false };
  const text = generateScript(await model());
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return { path: file, written: true };
}
