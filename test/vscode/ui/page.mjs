// What the UI end-to-end test does with the workbench's page: themes, rows, screenshots, the side bar's width, webview frames.
import path from 'node:path';

export const THEMES = { light: 'Default Light Modern', dark: 'Default Dark Modern' };

/** A checklist row by its accessible label ("Migrate: running. …"). */
export const row = (page, prefix) => page.locator(`.monaco-list-row[aria-label^="${prefix}"]`).first();

export async function shoot(page, dir, name) {
  await page.waitForTimeout(600); // a toast fades in, a spinner settles
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`    screenshot ${path.relative(process.cwd(), file)}`);
  return file;
}

/** Sets the side bar's width (drags its sash): 300 px is VS Code's default, where the checklist's rows must still say their state. */
export async function sideBarWidth(page, width) {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box || Math.abs(box.width - width) < 2) return;
  const edge = box.x + box.width;
  const sashes = await page.locator('.monaco-sash.vertical').evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2, h: r.height };
    }),
  );
  const sash = sashes.filter((s) => s.h > 100).sort((a, b) => Math.abs(a.x - edge) - Math.abs(b.x - edge))[0];
  if (!sash || Math.abs(sash.x - edge) > 8) return;
  await page.mouse.move(sash.x, sash.y);
  await page.mouse.down();
  await page.mouse.move(sash.x + (width - box.width), sash.y, { steps: 10 });
  await page.mouse.up();
}

/** Waits until some frame (webviews are nested iframes) shows an element matching the selector. */
export async function inSomeFrame(page, selector, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (
        await frame
          .locator(selector)
          .first()
          .isVisible()
          .catch(() => false)
      )
        return frame;
    }
    if (Date.now() > deadline) throw new Error(`no frame showed ${selector} within ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}
