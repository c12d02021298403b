// The spec as users save it: a UTF-8 BOM is accepted; a mistyped field gets "did you mean"; a wrong value says
// "field X: what is wrong — what to write", once, with exit 2 and nothing connected to.
import assert from 'node:assert/strict';
import { buildCli, Workspace } from '../support/cli';
import { legacySpec } from '../fixtures/legacy-data';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('CLI: spec errors a newcomer can act on', function () {
  this.timeout(120_000);
  let ws: Workspace;
  before(() => buildCli());
  afterEach(() => ws?.remove());

  const once = (stderr: string, pattern: RegExp) => {
    const hits = stderr.split('\n').filter((l) => pattern.test(l));
    assert.equal(hits.length, 1, `printed once:\n${stderr}`);
  };

  it('a mistyped top-level and nested field: did you mean, and the fields that exist there', async () => {
    const { tables, ...rest } = legacySpec() as { tables: Record<string, unknown>[] };
    ws = new Workspace({ ...rest, tabels: tables });
    const r = await ws.run(['plan'], { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /field \(top level\): unknown field "tabels" \(did you mean "tables"\?\) — the fields here are .*"tables"/,
    );
    once(r.stderr, /unknown field "tabels"/);
    assert.doesNotMatch(r.stderr, /Nothing accepts connections/, 'the spec is checked before connecting');

    ws.writeSpec({ ...legacySpec(), tables: [{ ...tables[0], nmae: 'x' }] });
    const nested = await ws.run(['plan'], { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
    assert.match(nested.stderr, /field tables\[0\]: unknown field "nmae" \(did you mean "name"\?\)/);
  });

  it('a wrong value says what it is and what to write', async () => {
    ws = new Workspace({ ...legacySpec(), batchSize: 'lots' });
    const r = await ws.run(['plan'], { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /field batchSize: is the text "lots", expected a number — .+/);
    once(r.stderr, /field batchSize/);
  });

  describe('with a database', () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase();
    });
    after(async () => db?.drop());

    it('a spec saved with a UTF-8 BOM is read like any other', async () => {
      ws = new Workspace(`\uFEFF${JSON.stringify(legacySpec(), null, 2)}`);
      const r = await ws.run(['plan'], { DATABASE_URL: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Org assignment:/);
    });
  });
});
