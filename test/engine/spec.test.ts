import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseSpecText, resolveSpec } from '../../src/engine/migration-spec/load';
import { specJsonSchema } from '../../src/engine/migration-spec/json-schema';
import { MigrationError } from '../../src/engine/errors';
import { legacySpec } from '../fixtures/legacy-data';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';

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
    assert.deepEqual(
      loaded.tables.map((t) => t.name),
      [{ name: 'credentials' }, { name: 'reports' }, { name: 'dashboard_layouts' }],
    );
  });

  it('allows comments and trailing commas (JSONC)', () => {
    const text = `// the spec\n${JSON.stringify(legacySpec(), null, 2).replace(/}\s*$/, ',\n}')}`;
    assert.equal(parseSpecText(text).spec.tables.length, 3);
  });

  it('names the line and column of a syntax error', () => {
    const e = (() => {
      try {
        parseSpecText('{\n  "orgs": {\n  "x": }\n}', '/w/tenant-migration.json');
      } catch (err) {
        return err as MigrationError;
      }
    })()!;
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /tenant-migration\.json is not valid JSON: .* at line 3, column/);
  });

  it('names the path of a wrong field', () => {
    const e = specError(legacySpec({ tables: [{ name: 'credentials', orgFrom: { mapping: { column: 7 } } }] }));
    assert.match(e.message, /tables\[0\]\.orgFrom/);
    assert.equal(e.exitCode, 2);
  });

  it('says what is wrong with which field inside orgFrom: a list given as column, an unknown field, an unknown rule', () => {
    const list = specError(
      legacySpec({
        tables: [
          { name: 'credentials', orgFrom: { query: { column: ['a', 'b'], sql: 'SELECT 1 AS key, 2 AS org_id' } } },
        ],
      }),
    );
    assert.match(
      list.message,
      /tables\[0\]\.orgFrom\.query\.column: must be one column name, not a list \(a query returns one key column; for a composite key use a mapping rule/,
    );
    const extra = specError(
      legacySpec({ tables: [{ name: 'credentials', orgFrom: { mapping: { column: 'id', colum: 'x' } } }] }),
    );
    assert.match(extra.message, /tables\[0\]\.orgFrom\.mapping: unknown field "colum"/);
    const rule = specError(legacySpec({ tables: [{ name: 'credentials', orgFrom: { mapings: { column: 'id' } } }] }));
    assert.match(rule.message, /tables\[0\]\.orgFrom: must be one of/);
  });

  it('a parent rule over a composite key: column and references as lists of the same length', () => {
    const table = (parent: Record<string, unknown>) =>
      legacySpec({
        tables: [
          GUIDE_SPEC.tables[0],
          GUIDE_SPEC.tables[2],
          { name: 'order_lines', orgFrom: { parent: { table: 'orders', ...parent } } },
        ],
      });
    const composite = resolveSpec(table({ column: ['order_id', 'shop_id'], references: ['id', 'shop_id'] }));
    assert.deepEqual(composite.spec.tables[2]!.orgFrom, {
      parent: { table: 'orders', column: ['order_id', 'shop_id'], references: ['id', 'shop_id'] },
    });
    assert.doesNotThrow(
      () => resolveSpec(table({ column: ['order_id', 'shop_id'] })),
      'references may be left to the foreign key',
    );
    assert.doesNotThrow(
      () => resolveSpec(table({ column: 'order_id', references: ['id'] })),
      'a one-column list is one column',
    );
    const counts = specError(table({ column: ['order_id', 'shop_id'], references: ['id'] }));
    assert.match(
      counts.message,
      /field tables\[2\]\.orgFrom\.parent\.column: 2 columns but references has 1: give the same number/,
    );
    assert.match(
      specError(table({ column: [] })).message,
      /tables\[2\]\.orgFrom\.parent\.column: must name at least one column/,
    );
    assert.match(
      specError(table({ column: ['shop_id', 'shop_id'], references: ['id', 'shop_id'] })).message,
      /tables\[2\]\.orgFrom\.parent\.column: names a column twice/,
    );
    const mapped = (column: unknown) =>
      legacySpec({
        mapping: { table: 'm', keyColumn: ['shop_id', 'customer_no'], orgColumn: 'org_id' },
        tables: [{ name: 'customers', orgFrom: { mapping: { column } } }],
      });
    assert.doesNotThrow(() => resolveSpec(mapped(['shop_id', 'customer_no'])));
    assert.match(
      specError(mapped('shop_id')).message,
      /tables\[0\]\.orgFrom\.mapping\.column: 1 column but mapping\.keyColumn has 2: give the same number/,
    );
    const schema = JSON.stringify(specJsonSchema());
    assert.match(schema, /a list of columns for a composite key/);
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
    const e = specError(
      legacySpec({
        tables: [
          { name: 'credentials', orgFrom: { mapping: { column: 'id' } } },
          { name: 'credentials', orgFrom: { mapping: { column: 'id' } } },
        ],
      }),
    );
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
    const committed = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../../schemas/tenant-migration.schema.json'), 'utf8'),
    );
    assert.deepEqual(
      committed,
      JSON.parse(JSON.stringify(specJsonSchema())),
      'run npm run build to regenerate schemas/tenant-migration.schema.json',
    );
    assert.ok((committed.required as string[]).includes('tables'));
  });
});
