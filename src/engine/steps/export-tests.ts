// Writes the isolation matrix as pgTAP files the team keeps (one per tenant table, supabase/tests/database/ by
// default, relative to the spec's folder). The matrix runs live first, rolled back, for the exact errors to pin.
import fs from 'node:fs';
import path from 'node:path';
import { currentEnforcement } from '../enforce';
import type { CheckResult } from '../events';
import { runMatrix } from '../isolation';
import { DEFAULT_EXPORT_DIR, renderPgtapFiles } from '../isolation/export';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context, options) => {
  const model = await context.model();
  const run = await runMatrix(context.session, model);
  const extensions =
    (await context.session.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'extensions'`)).rows.length > 0;
  const files = renderPgtapFiles(model, run, {
    generatedAt: new Date().toISOString(),
    extensionsSchema: extensions ? 'extensions' : undefined,
  });
  const dir = path.resolve(context.specFolder, options.exportTo ?? DEFAULT_EXPORT_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const checks: CheckResult[] = [];
  for (const f of files) {
    const file = path.join(dir, f.name);
    fs.writeFileSync(file, f.text);
    written.push(file);
    checks.push({ name: `${f.table}: ${f.name}`, ok: true, detail: plural(f.tests, 'test') });
  }
  const failing = run.probes.filter((p) => !p.ok);
  if (failing.length > 0 || run.leakingViews.length > 0) {
    checks.push({
      name: 'The matrix now',
      ok: false,
      severity: 'warning',
      detail: `${plural(failing.length, 'cell')} and ${plural(run.leakingViews.length, 'view')} fail on this database now: the exported tests fail until that is fixed ("tenant-migrate verify-isolation" names the causes)`,
    });
  }
  if (!(await currentEnforcement(context.session))) {
    checks.push({
      name: 'Transition mode',
      ok: false,
      severity: 'warning',
      detail:
        'the exported tests assert enforced isolation (row-level security forced, no rows without a tenant context): they pass once "tenant-migrate enforce --app-sends-context" has run',
    });
  }
  const tests = files.reduce((n, f) => n + f.tests, 0);
  return {
    summary: `${plural(files.length, 'pgTAP file')}, ${plural(tests, 'test')}, written to ${dir}`,
    checks,
    exportedFiles: written,
    next: `Commit them; run with "supabase test db" or "pg_prove -d \\"$DATABASE_URL\\" ${path.relative(context.specFolder, dir) || '.'}/*.sql".`,
  };
};
