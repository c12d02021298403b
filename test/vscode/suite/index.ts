// In-host test entry (extensionTestsPath): VS Code calls run() inside the extension host, in the real VS Code.
// Mocha is the repository's (mocha 12 is ESM; require() returns its namespace on Node >= 20.19).
import path from 'node:path';
import { extension } from './helpers';
import { takeModals } from './modals';

type MochaCtor = new (options: object) => { addFile(file: string): void; run(done: (failures: number) => void): void };

/** The suites, in order; TM_SUITES (comma-separated names) picks some, e.g. for the untrusted-workspace run. */
const SUITES = [
  'commands',
  'connections',
  'run',
  'checklist',
  'preview',
  'cancel',
  'production',
  'sql-editor',
  'sql-editor-lint-and-cancel',
  'guard',
];

export async function run(): Promise<void> {
  // VS Code refuses dialogs in tests: every suite answers the extension's modals (a write goes ahead unless a test says otherwise).
  if (process.env.TM_SUITES !== 'untrusted') takeModals((await extension()).api);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the repository's mocha, at run time in the host
  const mochaModule = require('mocha') as { default?: MochaCtor } & MochaCtor;
  const Mocha = mochaModule.default ?? mochaModule;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, slow: 5_000 });
  const wanted = (process.env.TM_SUITES ?? SUITES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of wanted) mocha.addFile(path.join(__dirname, `${name}.test.js`));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
