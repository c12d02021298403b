// The terminal's progress line while two tables are backfilled at once (the lanes): both are shown, the latest in
// full, cut to the terminal's width; a table that is done keeps a line of its own.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { TerminalChecklist } from '../../src/cli/terminal';
import type { EngineEvent, ProgressInfo } from '../../src/engine/events';

const progress = (table: string, done: number, total = 100): EngineEvent => ({
  type: 'progress',
  step: 'migrate',
  progress: { action: 'backfill', table, done, total, rowsDone: done * 10, rowsEstimate: total * 10 } as ProgressInfo,
});

/** A terminal of `columns` with two tables' progress on it: what was written, and the line shown last. */
function twoTables(columns: number) {
  const out = Object.assign(new PassThrough(), { columns });
  const seen = { written: '', last: () => seen.written.split('\r\x1b[2K').at(-1)! };
  out.on('data', (chunk: Buffer) => (seen.written += chunk.toString()));
  const terminal = new TerminalChecklist(out);
  terminal.handle(progress('public.credentials', 40));
  terminal.handle(progress('public.dashboard_layouts', 10));
  return { terminal, seen };
}

describe('terminal progress with two tables at once', () => {
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  before(() => Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true }));
  after(() =>
    tty ? Object.defineProperty(process.stderr, 'isTTY', tty) : delete (process.stderr as { isTTY?: boolean }).isTTY,
  );

  it('shows both tables on the line, and each finished table on a line of its own', () => {
    const { terminal, seen } = twoTables(200);
    assert.match(seen.last(), /^ {2}public\.dashboard_layouts \[#+\.+\] 10% .* · {2}public\.credentials 40%$/);
    terminal.handle(progress('public.credentials', 100));
    assert.match(seen.written, /public\.credentials \[#{24}\] 100% [^\n]*\n$/, 'the finished table stays on a line');
    terminal.handle(progress('public.dashboard_layouts', 20));
    assert.doesNotMatch(seen.last(), /credentials/, 'a finished table leaves the line');
  });

  it('cuts the line to the width of the terminal', () => {
    const last = twoTables(60).seen.last();
    assert.ok(last.length <= 59 && last.endsWith('…'), JSON.stringify(last));
  });
});
