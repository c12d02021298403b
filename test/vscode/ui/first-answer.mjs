// Preview Plan on a database large enough for a first answer (estimates) before the exact blocking checks: screenshots
// while the first answer is shown (the notice that the exact checks are running, Run disabled) and after the exact one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { THEMES, row, shoot, sideBarWidth } from './page.mjs';

const require = createRequire(import.meta.url);
const { startVSCode, runCommand } = require('../harness.js');

/** Mapped credentials added to the UI dataset: far over the first answer's exact limit (50,000 rows), and enough that
 *  the exact checks over every row last a second or more after the first answer. */
export const GROWN_CREDENTIALS = 1_000_000;

/** A copy of the template with GROWN_CREDENTIALS more credentials, each mapped to one org, analysed (the first answer
 *  reads the table sizes from the statistics). Preview Plan writes nothing: both themes use it. */
export async function grownDatabase(db, template) {
  const database = await db.copyOf(template, 'tm_vscode_ui_large');
  await db.query(
    database,
    `WITH o AS (SELECT array_agg(id ORDER BY id) AS ids FROM orgs WHERE id <> '00000000-0000-0000-0000-000000000001'),
          c AS (INSERT INTO credentials (user_id, provider, secret)
                SELECT NULL, 'github', 'grown ' || i FROM generate_series(1, ${GROWN_CREDENTIALS}) i RETURNING id)
     INSERT INTO legacy_credential_org_map (credential_id, org_id)
     SELECT c.id, o.ids[1 + c.id % array_length(o.ids, 1)] FROM c, o`,
  );
  await db.query(database, 'ANALYZE');
  return database;
}

const pending = (webview) => webview.locator('#gaps-pending');
const runDisabled = async (webview) => (await webview.locator('#action-run').getAttribute('aria-disabled')) === 'true';
/** What the preview shows, read at once (the exact answer may replace the first one between two reads). */
const shown = (webview) =>
  webview.locator('body').evaluate(() => {
    const run = document.getElementById('action-run');
    return {
      pending: !!document.getElementById('gaps-pending'),
      summary: document.querySelector('.summary')?.textContent ?? '',
      runDisabled: run?.getAttribute('aria-disabled'),
      runTitle: run?.getAttribute('title') ?? '',
      note: document.querySelector('.estimate-note')?.textContent ?? '',
    };
  });

export async function firstAnswerSession({ theme, vsix, db, database, spec, screenshots }) {
  const vsc = await startVSCode({
    vsix: [vsix],
    env: { DATABASE_URL: await db.urlFor(database) },
    settings: { 'workbench.colorTheme': THEMES[theme] },
  });
  const shots = [];
  try {
    fs.writeFileSync(path.join(vsc.workspace, 'tenant-migration.json'), JSON.stringify(spec, null, 2));
    const { page } = vsc;
    await page.goto(vsc.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    await runCommand(page, 'Tenant Migration: Focus on Checklist View');
    await row(page, 'Prerequisites:').waitFor({ timeout: 60000 });
    await sideBarWidth(page, 300);
    await page.mouse.move(900, 450);

    await runCommand(page, 'Tenant Migration: Preview Plan');
    const webview = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    const summary = webview.locator('.summary');
    // The exact checks follow the first answer within a second or two, and a webview that loads after both shows the
    // exact one alone: shoot as soon as the first answer shows, keep the shot only if it was there before and after
    // it, else read the plan again (Refresh) with the webview loaded.
    const file = path.join(screenshots, `plan-first-answer-${theme}.png`);
    await summary.waitFor({ timeout: 60000 });
    for (let attempt = 1; ; attempt++) {
      const seen = await pending(webview)
        .waitFor({ timeout: attempt === 1 ? 3000 : 30000 })
        .then(
          () => true,
          () => false,
        );
      if (seen) {
        await page.waitForTimeout(100); // the webview's paint after the message
        const before = await shown(webview);
        await page.screenshot({ path: file });
        if (before.pending && (await shown(webview)).pending) {
          assert.match(before.summary, /first answer \(estimates\)/);
          assert.doesNotMatch(before.summary, /no mapping gaps|none blocking/, 'nothing is cleared yet');
          assert.equal(before.runDisabled, 'true', 'Run waits for the exact checks');
          assert.match(before.runTitle, /^Waiting for the exact checks/);
          assert.doesNotMatch(before.note, /counted exactly/, 'the first answer counted no conflict exactly');
          break;
        }
      }
      if (attempt === 4) throw new Error('the exact checks answered before every screenshot of the first answer');
      await pending(webview).waitFor({ state: 'hidden', timeout: 120000 });
      await webview.locator('#action-refresh').click();
    }
    console.log(`    screenshot ${path.relative(process.cwd(), file)}`);
    shots.push(file);

    await pending(webview).waitFor({ state: 'hidden', timeout: 120000 });
    await summary.filter({ hasText: /none blocking|no mapping gaps|blocking gap/ }).waitFor({ timeout: 15000 });
    assert.ok(!(await runDisabled(webview)), 'Run is offered once the exact checks found nothing blocking');
    shots.push(await shoot(page, screenshots, `plan-exact-answer-${theme}`));
  } catch (error) {
    const failure = path.join(screenshots, `failure-first-answer-${theme}.png`);
    await vsc.page.screenshot({ path: failure }).catch(() => {});
    error.message += ` (screenshot: ${failure})`;
    throw error;
  } finally {
    await vsc.close();
  }
  return shots;
}
