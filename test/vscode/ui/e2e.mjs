// The UI end-to-end test: the packaged VSIX installed in a real VS Code (code-server + Chromium, notifications
// shown), "Tenant Migration: Run" typed into the command palette against a real PostgreSQL, and screenshots of the
// checklist during and after the run and of the plan preview, in light and dark themes (first-answer.mjs: the preview's
// first answer on a large database). In the light session it also adds a production connection through the real
// prompts and confirms a backup by typing the database name.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { firstAnswerSession, grownDatabase } from './first-answer.mjs';
import { THEMES, inSomeFrame, row, shoot, sideBarWidth } from './page.mjs';

const require = createRequire(import.meta.url);
const { startVSCode, runCommand } = require('../harness.js');

async function quickInput(page, text, { expectTitle } = {}) {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  if (expectTitle) await page.locator('.quick-input-widget', { hasText: expectTitle }).waitFor({ timeout: 15000 });
  await input.fill(text);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
}

async function session({ theme, vsix, db, database, spec, screenshots, production }) {
  const url = await db.urlFor(database);
  const vsc = await startVSCode({
    vsix: [vsix],
    env: { DATABASE_URL: url },
    settings: { 'workbench.colorTheme': THEMES[theme], 'tenantMigration.showStatusBar': true },
  });
  const shots = [];
  try {
    fs.writeFileSync(path.join(vsc.workspace, 'tenant-migration.json'), JSON.stringify(spec, null, 2));
    const { page } = vsc;
    await page.goto(vsc.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    await page.locator('.statusbar').waitFor();

    await runCommand(page, 'Tenant Migration: Focus on Checklist View');
    await row(page, 'Prerequisites:').waitFor({ timeout: 60000 });
    await sideBarWidth(page, 300);
    await page.locator('.statusbar-item', { hasText: 'DATABASE_URL' }).first().waitFor({ timeout: 15000 });

    // A failure first, with nothing ticked: the write asks about the unticked items (named, with the target), and a
    // credential mapped to two orgs stops the run at Prerequisites; what to do next is in the row, its tooltip and Show Details.
    const [conflict] = await db.query(
      database,
      `INSERT INTO legacy_credential_org_map (credential_id, org_id)
      SELECT 3, id FROM orgs WHERE id <> (SELECT org_id FROM legacy_credential_org_map WHERE credential_id = 3 LIMIT 1)
        AND id <> '00000000-0000-0000-0000-000000000001' LIMIT 1 RETURNING org_id::text AS org`,
    );
    await runCommand(page, 'Tenant Migration: Run');
    const unticked = page.locator('.monaco-dialog-box', { hasText: 'manual prerequisites are not ticked' });
    await unticked.waitFor({ timeout: 30000 });
    shots.push(await shoot(page, screenshots, `unticked-confirm-${theme}`));
    await unticked.getByRole('button', { name: 'Run Anyway' }).click();
    await row(page, 'Prerequisites: failed').waitFor({ timeout: 60000 });
    const next = page.locator('.monaco-list-row', { hasText: 'What to do next' }).first();
    await next.waitFor({ timeout: 15000 });
    await page.mouse.move(900, 450);
    shots.push(await shoot(page, screenshots, `checklist-after-failure-${theme}`));
    await next.hover();
    await page.locator('.monaco-hover', { hasText: 'What to do next' }).first().waitFor({ timeout: 15000 });
    shots.push(await shoot(page, screenshots, `checklist-failure-tooltip-${theme}`));
    await next.click();
    await page.locator('.tab', { hasText: 'what to do next' }).first().waitFor({ timeout: 15000 });
    shots.push(await shoot(page, screenshots, `failure-details-${theme}`));
    await runCommand(page, 'View: Close All Editors');
    await db.query(database, 'DELETE FROM legacy_credential_org_map WHERE credential_id = 3 AND org_id = $1', [
      conflict.org,
    ]);

    // The operator ticks the manual prerequisites in the tree: each tick is recorded with who and when.
    for (const item of [
      'Full database dump taken',
      'Users notified of the maintenance window',
      'Migration script reviewed',
    ]) {
      const manual = page.locator('.monaco-list-row', { hasText: item }).first();
      const ticked = page.locator('.monaco-list-row', { hasText: item }).filter({ hasText: '@' }).first();
      // A click that lands while the tree is still being re-rendered is lost: click again only while the box is unchecked.
      for (let attempt = 1; ; attempt++) {
        const box = manual.locator('.custom-view-tree-node-item-checkbox').first();
        if ((await box.getAttribute('aria-checked')) !== 'true') await box.click();
        await page.mouse.move(900, 450); // away, so the checkbox's hover does not cover the next row
        try {
          await ticked.waitFor({ timeout: 10000 });
          break;
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    }
    const ticks = await db.query(database, 'SELECT count(*)::int AS n FROM tenant_migration.manual_items');
    assert.equal(ticks[0].n, 3, 'the three ticks are recorded in the database');

    await runCommand(page, 'Tenant Migration: Preview Plan');
    const webview = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    await webview.locator('.plan-host > *').first().waitFor({ timeout: 60000 });
    shots.push(await shoot(page, screenshots, `plan-preview-${theme}`));
    await runCommand(page, 'View: Close All Editors');

    // The script the team reviews, left open (its statement CodeLens and lint) during the run with its log.
    // The failed run above generated it already: open that one.
    await runCommand(page, 'Tenant Migration: Generate Script');
    const regenerate = page.locator('.monaco-dialog-box', { hasText: 'Regenerate it from the spec?' });
    if (
      await regenerate.waitFor({ timeout: 5000 }).then(
        () => true,
        () => false,
      )
    )
      await regenerate.getByRole('button', { name: 'Open Existing' }).click();
    await page.locator('.tab', { hasText: 'migrate_to_multitenant.sql' }).waitFor({ timeout: 30000 });
    await runCommand(page, 'Tenant Migration: Show Log');
    await runCommand(page, 'Tenant Migration: Run');
    // Every item ticked: the write names its target (a non-production connection offers "don't ask again").
    const confirm = page.locator('.monaco-dialog-box', { hasText: 'Run on ' });
    await confirm.waitFor({ timeout: 30000 });
    shots.push(await shoot(page, screenshots, `confirm-write-${theme}`));
    await confirm.getByRole('button', { name: 'Continue', exact: true }).click();
    // The row shows the backfill's percentage or the statement it is at; the backfill alone can pass between two
    // repaints of the headless workbench, so the screenshot waits for the running step, not for a percentage: its
    // row, or the run's progress notification naming it (the row was once missed in a 7-s migrate on a quiet machine).
    await Promise.any([
      page.locator('.monaco-list-row[aria-label^="Migrate: running"]').first().waitFor({ timeout: 120000 }),
      page
        .locator('.notifications-toasts', { hasText: 'Tenant Migration: Run on DATABASE_URL: Migrate' })
        .waitFor({ timeout: 120000 }),
    ]).catch(() => {
      throw new Error(
        'Migrate was never seen running (neither its checklist row nor the progress notification) within 120 s: see the failure screenshot and the run log',
      );
    });
    await page
      .locator('.notifications-toasts', { hasText: 'Tenant Migration: Run on DATABASE_URL' })
      .waitFor({ timeout: 15000 });
    shots.push(await shoot(page, screenshots, `checklist-during-run-${theme}`));
    const done = page.locator('.notifications-toasts .notification-toast', { hasText: 'Migration run complete' });
    await done.waitFor({ timeout: 180000 });
    await row(page, 'Report: done').waitFor({ timeout: 15000 });
    await done.getByRole('button', { name: 'Open Report' }).click();
    await page.locator('.tab', { hasText: /Preview .*\.md/ }).waitFor({ timeout: 30000 });
    await inSomeFrame(page, 'h1', 60000); // the Markdown preview has rendered the report
    shots.push(await shoot(page, screenshots, `checklist-after-run-${theme}`));

    const [migrated] = await db.query(
      database,
      `SELECT count(*)::int AS n FROM information_schema.columns
      WHERE table_name IN ('credentials', 'reports', 'dashboard_layouts') AND column_name = 'org_id' AND is_nullable = 'NO'`,
    );
    assert.equal(migrated.n, 3, 'the run from the palette migrated the database');

    shots.push(...(await sqlChecks({ page, vsc, db, database, screenshots, theme })));
    if (production) shots.push(...(await productionBackup({ page, vsc, db, production, screenshots, theme })));
  } catch (error) {
    const failure = path.join(screenshots, `failure-${theme}.png`);
    await vsc.page.screenshot({ path: failure }).catch(() => {});
    error.message += ` (screenshot: ${failure})`;
    throw error;
  } finally {
    await vsc.close();
  }
  return shots;
}

/** The guide's checks file (what `init` writes) and one more check, after the run: "Run All Checks in File", the
 *  results inline with their ✓/✗ and the tally at the top, then the hover's table of a grouped count. */
async function sqlChecks({ page, vsc, db, database, screenshots, theme }) {
  const { GUIDE_CHECKS } = await tsImport(
    path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/engine/migration-spec/template.ts'),
    import.meta.url,
  );
  const checks = `${GUIDE_CHECKS}
-- credentials with no mapping row fell back to the default org: each one needs a look before sign-off
-- expect: 0
SELECT COUNT(*)
  FROM credentials c LEFT JOIN legacy_credential_org_map m ON m.credential_id = c.id
 WHERE m.credential_id IS NULL;
`;
  fs.writeFileSync(path.join(vsc.workspace, 'checks.sql'), checks);
  const [unmapped] = await db.query(
    database,
    'SELECT count(*)::int AS n FROM credentials c LEFT JOIN legacy_credential_org_map m ON m.credential_id = c.id WHERE m.credential_id IS NULL',
  );
  await runCommand(page, 'View: Close All Editors');
  // Room for the file: the side bar (Ctrl+B) and the panel (Ctrl+J) go away for the first screenshot.
  if (await page.locator('.part.sidebar').isVisible()) await page.keyboard.press('Control+B');
  if (await page.locator('.part.panel').isVisible()) await page.keyboard.press('Control+J');
  await runCommand(page, 'Go to File...');
  await page.keyboard.type('checks.sql');
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: 'checks.sql' })
    .first()
    .waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
  await page.locator('.tab', { hasText: 'checks.sql' }).waitFor({ timeout: 30000 });
  await page.locator('.codelens-decoration', { hasText: '5 checks: 0 ✓ 0 ✗ 5 not run' }).waitFor({ timeout: 60000 });
  await runCommand(page, 'Tenant Migration: Run All Checks in File');
  const tally = unmapped.n === 0 ? '5 checks: 5 ✓ 0 ✗' : '5 checks: 4 ✓ 1 ✗';
  await page.locator('.codelens-decoration', { hasText: tally }).waitFor({ timeout: 60000 });
  // The results are decorations (CSS content, not text in the DOM): the tally above says they are there.
  await page.mouse.move(1300, 880);
  const shots = [await shoot(page, screenshots, `sql-checks-${theme}`)];
  // The failed check in Problems (Ctrl+Shift+M), then a result's hover.
  await page.keyboard.press('Control+Shift+M');
  await page
    .locator('.markers-panel .monaco-list-row', { hasText: 'Check failed: expected 0, got' })
    .first()
    .waitFor({ timeout: 15000 });
  // The grouped count's line, found by its line number (Monaco's lines are virtual DOM, re-rendered as decorations change).
  const lineNumber = checks.split('\n').findIndex((l) => l.includes('GROUP BY org_id')) + 1;
  const number = await page
    .locator('.margin-view-overlays .line-numbers', { hasText: new RegExp(`^${lineNumber}$`) })
    .first()
    .boundingBox();
  const box = { x: number.x + number.width + 30, y: number.y, height: number.height };
  await page.mouse.click(box.x + 700, box.y + box.height / 2); // the cursor past the semicolon: still that statement
  await runCommand(page, 'Tenant Migration: Run Statement (Read-Only)');
  const hover = page.locator('.monaco-hover', { hasText: 'Result' }).first();
  for (let tries = 0; !(await hover.isVisible()); tries++) {
    // until the result is there to hover
    if (tries > 30) throw new Error('no hover with the result of the grouped count');
    await page.mouse.move(box.x + 300, box.y - 200);
    await page.waitForTimeout(300);
    await page.mouse.move(box.x + 60, box.y + box.height / 2);
    await page.waitForTimeout(700);
  }
  shots.push(await shoot(page, screenshots, `sql-hover-${theme}`));
  return shots;
}

/** Add Connection through its prompts (production), then Back Up: confirmed only by typing the database name. */
async function productionBackup({ page, vsc, db, production, screenshots, theme }) {
  const account = new URL(await db.urlFor(production));
  const password = decodeURIComponent(account.password);
  await runCommand(page, 'View: Close All Editors');
  await page.keyboard.press('Escape');
  await runCommand(page, 'Tenant Migration: Add Connection');
  await quickInput(page, account.hostname, { expectTitle: 'Add Connection (1/7)' });
  await quickInput(page, account.port);
  await quickInput(page, production);
  await quickInput(page, decodeURIComponent(account.username));
  await quickInput(page, password);
  await quickInput(page, 'disable');
  await quickInput(page, 'Production');
  await quickInput(page, 'production');
  await page.locator('.notifications-toasts', { hasText: `/${production}: PostgreSQL` }).waitFor({ timeout: 30000 });
  await page.locator('.statusbar-item', { hasText: 'production' }).first().waitFor({ timeout: 15000 });

  await runCommand(page, 'Tenant Migration: Back Up');
  // Nothing is ticked on this database: asked first, then the production confirmation (typed) as before.
  const unticked = page.locator('.monaco-dialog-box', { hasText: 'manual prerequisites are not ticked' });
  await unticked.waitFor({ timeout: 30000 });
  await unticked.getByRole('button', { name: 'Run Anyway' }).click();
  const input = page.locator('.quick-input-widget input');
  await page
    .locator('.quick-input-widget', { hasText: `Type the database name "${production}"` })
    .waitFor({ timeout: 30000 });
  await input.fill('postgres');
  await page.locator('.quick-input-widget', { hasText: `Type "${production}" exactly` }).waitFor({ timeout: 10000 });
  const shot = await shoot(page, screenshots, `production-confirm-${theme}`);
  await input.fill(production);
  await page.keyboard.press('Enter');
  await page.locator('.notifications-toasts', { hasText: 'Back Up:' }).waitFor({ timeout: 60000 });
  const backups = await db.query(
    production,
    `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'tenant_migration' AND tablename LIKE 'backup\\_%'`,
  );
  assert.equal(backups[0].n, 3, 'the confirmed backup ran on the production database');

  const settings = fs.readFileSync(path.join(path.dirname(vsc.workspace), 'ud/User/settings.json'), 'utf8');
  assert.ok(settings.includes(`"${production}"`), 'the profile is in the user settings');
  assert.ok(
    !settings.includes(password) && !settings.includes(encodeURIComponent(password)),
    'the password is not in the settings',
  );
  return [shot];
}

export async function runE2E({ vsix, db, screenshots, template }) {
  fs.rmSync(screenshots, { recursive: true, force: true });
  fs.mkdirSync(screenshots, { recursive: true });
  // Small, short batches: the backfill then lasts long enough (seconds, not one refresh) for the checklist to show it
  // running with its percentage, whatever the machine's speed.
  const spec = db.legacySpec({ batchSize: 200, batchTargetMs: 20 });
  const shots = [];
  const large = await grownDatabase(db, template);
  for (const theme of ['light', 'dark']) {
    console.log(`  ${theme} theme, a first answer on a large database`);
    shots.push(...(await firstAnswerSession({ theme, vsix, db, database: large, spec, screenshots })));
  }
  for (const theme of ['light', 'dark']) {
    const database = await db.copyOf(template, `tm_vscode_ui_${theme}`);
    const production = theme === 'light' ? await db.copyOf(template, 'tm_vscode_ui_production') : undefined;
    console.log(`  ${theme} theme`);
    shots.push(...(await session({ theme, vsix, db, database, spec, screenshots, production })));
  }
  return shots;
}
