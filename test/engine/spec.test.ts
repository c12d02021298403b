import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseSpecText, resolveSpec } from '../../src/engine/migration-spec/load';
import { specJsonSchema } from '../../src/engine/migration-spec/json-schema';
import { MigrationError } from '../../src/engine/errors';
import { legacySpec } from '../fixtures/legacy-data';

function specError(input: unknown): MigrationError {
  try {
    resolveSpec(input);
  } catch (e) {
    assert.ok(e instanceof MigrationError, `expected a MigrationError, got ${e}`);
    return e;
  }
  assert.fail('the spec was accepted');
}

describe('spec', () => {
  it('accepts the guide spec with defaults filled in', () => {
    const loaded = resolveSpec(legacySpec());
    assert.equal(loaded.spec.orgColumn, 'org_id');
    assert.equal(loaded.spec.batchSize, 5000);
    assert.deepEqual(loaded.tables.map((t) => t.name), [{ name: 'credentials' }, { name: 'reports' }, { name: 'dashboard_layouts' }]);
  });

  it('allows comments and trailing commas (JSONC)', () => {
    const text = `// the spec\n${JSON.stringify(legacySpec(), null, 2).replace(/}\s*$/, ',\n}')}`;
    assert.equal(parseSpecText(text).spec.tables.length, 3);
  });

  it('names the line and column of a syntax error', () => {
    const e = (() => { try { parseSpecText('{\n  "orgs": {\n  "x": }\n}', '/w/tenant-migration.json'); } catch (err) { return err as MigrationError; } })()!;
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /tenant-migration\.json is not valid JSON: .* at line 3, column/);
  });

  it('names the path of a wrong field', () => {
    const e = specError(legacySpec({ tables: [{ name: 'credentials', orgFrom: { mapping: { column: 7 } } }] }));
    assert.match(e.message, /tables\[0\]\.orgFrom/);
    assert.equal(e.exitCode, 2);
  });

  it('says what is wrong with which field inside orgFrom: a list given as column, an unknown field, an unknown rule', () => {
    const list = specError(legacySpec({ tables: [{ name: 'reports', orgFrom: { parent: { table: 'credentials', column: ['a', 'b'] } } }] }));
    assert.match(list.message, /tables\[0\]\.orgFrom\.parent\.column: must be one column name, not a list/);
    const extra = specError(legacySpec({ tables: [{ name: 'credentials', orgFrom: { mapping: { column: 'id', colum: 'x' } } }] }));
    assert.match(extra.message, /tables\[0\]\.orgFrom\.mapping: unknown field "colum"/);
    const rule = specError(legacySpec({ tables: [{ name: 'credentials', orgFrom: { mapings: { column: 'id' } } }] }));
    assert.match(rule.message, /tables\[0\]\.orgFrom: must be one of/);
  });

  it('rejects unknown fields by name', () => {
    const e = specError(legacySpec({ defualtOrgId: 'x' }));
    assert.match(e.message, /unknown field "defualtOrgId"/);
  });

  it('rejects a mapping rule without a mapping section', () => {
    const spec = legacySpec();
    delete spec.mapping;
    assert.match(specError(spec).message, /tables\[0\]\.orgFrom uses "mapping" but the spec has no "mapping" section/);
  });

  it('rejects a table listed twice', () => {
    const e = specError(legacySpec({ tables: [{ name: 'credentials', orgFrom: { mapping: { column: 'id' } } }, { name: 'credentials', orgFrom: { mapping: { column: 'id' } } }] }));
    assert.match(e.message, /tables\[1\]\.name: "credentials" is listed twice/);
  });

  it('parses schema-qualified and quoted names exactly', () => {
    const loaded = resolveSpec(legacySpec({ orgs: { table: '"Tenant Data"."Orgs ""A"""', idColumn: 'id' } }));
    assert.deepEqual(loaded.orgsTable, { schema: 'Tenant Data', name: 'Orgs "A"' });
  });

  it('rejects a setting name that is not a custom setting', () => {
    const e = specError(legacySpec({ tenantContext: { kind: 'setting', name: "x'; DROP TABLE orgs; --" } }));
    assert.match(e.message, /tenantContext\.name/);
  });

  it('publishes a JSON Schema that matches the committed file', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schemas/tenant-migration.schema.json'), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(specJsonSchema())), 'run npm run build to regenerate schemas/tenant-migration.schema.json');
    assert.ok((committed.required as string[]).includes('tables'));
  });
});
