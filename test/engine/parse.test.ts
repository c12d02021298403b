import assert from 'node:assert/strict';
import { splitScript } from '../../src/engine/script/parse';
import { parseUnits } from '../../src/engine/execute/runner';

describe('script parsing', () => {
  it('splits statements with locations, keeping strings and dollar quotes whole', async () => {
    const text = "SELECT 'a;b';\n-- a comment; with a semicolon\nDO $$ BEGIN RAISE NOTICE 'x;y'; END $$;\nSELECT 2";
    const items = await splitScript(text);
    assert.deepEqual(
      items.map((i) => i.text),
      ["SELECT 'a;b'", "DO $$ BEGIN RAISE NOTICE 'x;y'; END $$", 'SELECT 2'],
    );
    assert.deepEqual(
      items.map((i) => i.line),
      [1, 3, 4],
    );
  });

  it('recognises psql meta-commands at the start of a statement', async () => {
    const items = await splitScript('\\set ON_ERROR_STOP on\n\\d+ credentials\nSELECT 1;');
    assert.deepEqual(
      items.map((i) => [i.kind, i.text]),
      [
        ['meta', '\\set ON_ERROR_STOP on'],
        ['meta', '\\d+ credentials'],
        ['sql', 'SELECT 1'],
      ],
    );
    assert.deepEqual(items[1]!.kind === 'meta' ? [items[1]!.command, items[1]!.args] : [], ['d+', ['credentials']]);
  });

  it('gives character offsets, not bytes, after non-ASCII text', async () => {
    const text = "SELECT 'häßlich';\nSELECT 'ok';";
    const items = await splitScript(text);
    assert.equal(text.slice(items[1]!.start, items[1]!.end), "SELECT 'ok'");
  });

  it('groups BEGIN … COMMIT into one unit and reads phase markers', async () => {
    const text =
      '-- @tenant-migration step=backup\nBEGIN;\nSELECT 1;\nCOMMIT;\n-- @tenant-migration step=rls\nSELECT 2;';
    const units = await parseUnits(text);
    assert.equal(units.length, 2);
    assert.equal(units[0]!.statements.length, 3);
    assert.deepEqual(
      units.map((u) => u.phase),
      ['backup', 'rls'],
    );
  });

  it('splits a large script in slices, the event loop answering meanwhile, into the units of the whole split', async () => {
    const forms = [
      (i: number) => `-- does: step ${i}\nUPDATE "odd ""name"" ü" SET a = ${i} WHERE id = ${i};`,
      (i: number) => `DO $body$ BEGIN RAISE NOTICE 'a;${i}'; END $body$;`,
      (i: number) => `BEGIN;\nSELECT 'it''s; ${i}';\nCOMMIT;`,
      (i: number) => `/* a ; comment\n over lines */ VACUUM (ANALYZE) t${i};`,
    ];
    const text = Array.from({ length: 4000 }, (_, i) => forms[i % forms.length]!(i)).join('\n');
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const units = await parseUnits(text);
    clearInterval(ticking);
    assert.ok(turns > 3, `${turns} timer turns while a ${Math.round(text.length / 1024)}-KB script was split`);
    const whole = await splitScript(text);
    assert.deepEqual(
      units.flatMap((u) => u.statements),
      whole,
    );
    assert.equal(units.filter((u) => u.statements.length === 3).length, 1000, 'each BEGIN … COMMIT one unit');
  });
});
