// The SQL editor's incremental splitting: after any edit, in chunks, on a large file, with quotes and dollar quotes
// never closed, it gives what a full split gives.
import assert from 'node:assert/strict';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import { SqlDocument } from '../../src/engine/sql-editor/document';
import { SqlFileModel } from '../../src/engine/sql-editor/file-model';

describe('SQL editor engine', () => {
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => {
    parser = await loadParser();
  });

  describe('incremental splitting', () => {
    it('after any edit, gives exactly what a full split gives', () => {
      const base = [
        '-- expect: 0\nSELECT count(*) FROM credentials WHERE org_id IS NULL;',
        '\\d+ credentials',
        "DO $$ BEGIN RAISE NOTICE 'a;b'; END $$;",
        "SELECT 'it''s; fine' AS x;",
        '/* a block; comment */ UPDATE reports SET title = title WHERE id = 1;',
        'SELECT 1',
      ].join('\n');
      let seed = 42;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const pieces = [';', "'", '$$', '\n', 'SELECT 2;', ' ', '--', 'x', '\\d t\n', '/*', '*/'];
      const doc = new SqlDocument(parser.scanSync);
      let text = base;
      doc.update(text);
      let compared = 0;
      for (let i = 0; i < 400; i++) {
        const at = random(text.length + 1);
        const cut = random(3) === 0 ? random(6) : 0;
        text =
          text.slice(0, at) +
          (random(4) === 0 ? '' : pieces[random(pieces.length)]) +
          text.slice(Math.min(text.length, at + cut));
        let full;
        try {
          full = splitWith(parser.scanSync, text);
        } catch {
          doc.update(base);
          text = base;
          continue;
        }
        assert.deepEqual(
          doc.update(text).map((s) => s.item),
          full,
          `after edit ${i}: ${JSON.stringify(text)}`,
        );
        compared++;
      }
      assert.ok(compared > 200);
    });
    it('re-splits the statement before an edit: deleting a ";" set apart by a space joins the two statements', () => {
      const doc = new SqlDocument(parser.scanSync);
      doc.update('SELECT 1 ;\nSELECT 2;\nSELECT 3;');
      const joined = 'SELECT 1 \nSELECT 2;\nSELECT 3;';
      assert.deepEqual(
        doc.update(joined).map((s) => s.item),
        splitWith(parser.scanSync, joined),
      );
    });

    it('deleting the line end of a "--" comment or a meta-command takes the next statement into it', () => {
      for (const [before, after] of [
        ['SELECT 1;\n-- note\n  DROP TABLE t;\n', 'SELECT 1;\n-- note  DROP TABLE t;\n'],
        ['\\set x y\n  DROP TABLE t;\n', '\\set x y  DROP TABLE t;\n'],
      ] as const) {
        const doc = new SqlDocument(parser.scanSync);
        doc.update(before);
        assert.deepEqual(
          doc.update(after).map((s) => s.item),
          splitWith(parser.scanSync, after),
          JSON.stringify(after),
        );
        assert.ok(!doc.statements.some((s) => s.item.text === 'DROP TABLE t'), 'the DROP is commented out now');
      }
    });

    it('ends a meta-command at its line end even when a quote or comment opens on it (as psql does), whole and in chunks', () => {
      const text = '\\echo /* start\nSELECT 1;\n*/ SELECT 2;\nSELECT 3;\n';
      const whole = splitWith(parser.scanSync, text);
      assert.deepEqual(
        whole.map((i) => i.text),
        ['\\echo /* start', 'SELECT 1', '*/ SELECT 2', 'SELECT 3'],
      );
      assert.deepEqual(
        whole.map((i) => i.line),
        [1, 2, 3, 4],
      );
      for (const chunk of [4, 8, 16])
        assert.deepEqual(
          new SqlDocument(parser.scanSync, chunk).update(text).map((s) => s.item),
          whole,
          `chunks of ${chunk}`,
        );
      const unbalanced = "\\echo it's\nSELECT 1;\n\\echo that's it\nSELECT 2;\n";
      assert.deepEqual(
        splitWith(parser.scanSync, unbalanced).map((i) => `${i.kind} ${i.text} @${i.line}`),
        ["meta \\echo it's @1", 'sql SELECT 1 @2', "meta \\echo that's it @3", 'sql SELECT 2 @4'],
      );
      for (const chunk of [4, 16, 1000])
        assert.deepEqual(
          new SqlDocument(parser.scanSync, chunk).update(unbalanced).map((s) => s.item),
          splitWith(parser.scanSync, unbalanced),
          `chunks of ${chunk}`,
        );
    });

    it('splits a file in chunks as the whole split does, whatever a chunk ends in (quotes, dollar quotes, comments, \\d)', () => {
      const forms = [
        (i: number) => `-- expect: ${i}\nSELECT ${i};`,
        (i: number) => `DO $fn$ BEGIN RAISE NOTICE 'a;${i}'; END $fn$;`,
        (i: number) => `SELECT 'it''s; ${i}' AS "semi;colon";`,
        (i: number) => `/* a ; comment\n over lines */ UPDATE t SET a = ${i} WHERE id = ${i};`,
        (i: number) => `\\d+ t${i}`,
        (i: number) => `SELECT $$${'x;'.repeat(i % 40)}$$;`,
        (i: number) => `SELECT 'ünïcödé ${i}';`,
      ];
      const text = Array.from({ length: 300 }, (_, i) => forms[(i * 7 + (i >> 3)) % forms.length]!(i)).join('\n');
      const full = splitWith(parser.scanSync, text);
      for (const chunk of [1, 17, 64, 333, 4096]) {
        const doc = new SqlDocument(parser.scanSync, chunk);
        doc.start(text);
        let steps = 1;
        while (!doc.complete) {
          doc.step();
          steps++;
        }
        assert.deepEqual(
          doc.statements.map((s) => s.item),
          full,
          `chunks of ${chunk} characters`,
        );
        assert.deepEqual(
          doc.statements.map((s) => s.expectation),
          new SqlDocument(parser.scanSync).update(text).map((s) => s.expectation),
        );
        if (chunk < 4096) assert.ok(steps > 5, `${steps} steps with chunks of ${chunk}`);
      }
    });

    it('shows the first statements of a large file after one chunk, and takes an edit made before the split is done', () => {
      const text = Array.from({ length: 2000 }, (_, i) => `UPDATE t SET a = ${i} WHERE id = ${i};`).join('\n');
      const model = new SqlFileModel(parser);
      model.begin(text);
      assert.equal(model.complete, false);
      assert.ok(
        model.statements.length > 100 && model.statements.length < 2000,
        `${model.statements.length} statements after the first chunk`,
      );
      assert.deepEqual(
        model.statements.map((s) => s.item),
        splitWith(parser.scanSync, text).slice(0, model.statements.length),
      );
      const edited = text
        .replace('WHERE id = 1500;', "WHERE id = 1500;\nSELECT 'new';")
        .replace('SET a = 3 ', 'SET a = 33 ');
      model.begin(edited);
      while (!model.resume()) {
        /* the rest */
      }
      assert.deepEqual(
        model.statements.map((s) => s.item),
        splitWith(parser.scanSync, edited),
      );
    });

    it('with a dollar quote never closed, splits every statement before it (strings with ";" around it) and names its statement', () => {
      const forms = [
        (i: number) => `SELECT 'a;${i}' AS "x;y";`,
        (i: number) => `DO $body$ BEGIN PERFORM ${i}; END $body$;`,
        (i: number) => `-- expect: 0\nSELECT ${i} /* ; */;`,
        (i: number) => `UPDATE t SET note = 'it''s;' WHERE id = ${i};`,
      ];
      const valid = Array.from({ length: 120 }, (_, i) => forms[i % forms.length]!(i)).join('\n');
      const items = splitWith(parser.scanSync, valid);
      for (const [j, chunk] of [
        [0, 16],
        [1, 1],
        [37, 7],
        [60, 64],
        [90, 1000],
        [119, 33],
      ] as const) {
        const at = items[j]!.start;
        const broken = `${valid.slice(0, at)}$never$ ${valid.slice(at)}`;
        const model = new SqlFileModel(parser, chunk);
        model.update(broken);
        assert.deepEqual(
          model.statements.map((s) => s.item),
          items.slice(0, j),
          `statement ${j}, chunks of ${chunk}`,
        );
        const stop = model.diagnostics().find((d) => d.code === 'syntax')!.start;
        assert.ok(
          stop > (items[j - 1]?.end ?? -1) && stop <= at,
          `statement ${j}, chunks of ${chunk}: the diagnostic at ${stop} is on the statement (or its comment) at ${at}`,
        );
      }
    });

    it('after an opening quote is typed near the top of a large file, stops at its statement within a few scans of the file', () => {
      const text = Array.from({ length: 4000 }, (_, i) =>
        i % 3 === 0
          ? `UPDATE accounts SET note = 'row ${i}' WHERE id = ${i};`
          : `ALTER TABLE t${i} ADD COLUMN org_id bigint;`,
      ).join('\n');
      let scanned = 0;
      let failed = 0;
      const scanSync = (t: string) => {
        try {
          const r = parser.scanSync(t);
          scanned += t.length;
          return r;
        } catch (e) {
          failed += t.length;
          throw e;
        }
      };
      const model = new SqlFileModel({ scanSync, parseSync: parser.parseSync });
      model.update(text);
      const at = text.indexOf('\n', 300) + 1;
      scanned = 0;
      failed = 0;
      model.update(`${text.slice(0, at)}SELECT '${text.slice(at)}`);
      assert.equal(
        model.statements.length,
        splitWith(parser.scanSync, text.slice(0, at)).length,
        'every statement before the quote',
      );
      assert.equal(
        model.diagnostics().find((d) => d.code === 'syntax')?.start,
        at,
        'the diagnostic where the edit began',
      );
      // Every quote after it pairs up differently, so there is no end to find: the search gives up in proportion to the
      // file (a scan that fails stops at the problem and returns nothing: it costs a fraction of one that succeeds).
      assert.ok(
        scanned + failed / 8 < 8 * text.length,
        `${scanned} characters scanned and ${failed} failed for a ${text.length}-character file`,
      );
    });

    it('stops at an unterminated quote in a later chunk and says where', () => {
      const good = Array.from({ length: 1500 }, (_, i) => `SELECT ${i};`).join('\n');
      const text = `${good}\nSELECT 'never closed;\nSELECT 2;`;
      const model = new SqlFileModel(parser);
      model.update(text);
      assert.equal(model.statements.length, 1500);
      const stop = model.diagnostics().find((d) => d.code === 'syntax')!;
      assert.equal(stop.start, text.indexOf("SELECT 'never"), 'at the statement that never ends');
    });
  });
});
