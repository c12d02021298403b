// Reads tenant-migration.json (JSONC), validates it and resolves its names and paths.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { usageError } from '../errors';
import { parseQualifiedName, type QualifiedName } from '../db/sql';
import { pathInside } from './paths';
import { MAX_IDENTIFIER_BYTES, columnsOf, specSchema, type Spec, type TableSpec } from './schema';
import { plural } from '../../shared/format';
import { formatIssues } from './issues';

export interface ResolvedTable {
  readonly spec: TableSpec;
  readonly name: QualifiedName;
  readonly index: number;
}

export interface LoadedSpec {
  readonly spec: Spec;
  /** Absolute path of the spec file, or undefined when given as an object. */
  readonly file?: string;
  /** Absolute path of the migration script. */
  readonly scriptPath: string;
  readonly orgsTable: QualifiedName;
  readonly mappingTable?: QualifiedName;
  readonly tables: readonly ResolvedTable[];
  readonly tenantCredentials?: { table: QualifiedName; from: QualifiedName };
  readonly sharedTables: QualifiedName[];
  /** The views the spec switches to security_invoker, with the spec field that names each. */
  readonly views: { readonly name: QualifiedName; readonly field: string }[];
  /** The unique indexes (or constraints, by their index) the spec makes per org. */
  readonly uniques: { readonly name: QualifiedName; readonly field: string }[];
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

function nameAt(field: string, text: string): QualifiedName {
  let name: QualifiedName;
  try {
    name = parseQualifiedName(text);
  } catch (e) {
    throw usageError(
      `Spec field ${field}: ${(e as Error).message}`,
      'Write a table as name or schema.name; quote a part that holds a dot.',
    );
  }
  for (const part of [name.schema, name.name]) {
    if (part !== undefined && (Buffer.byteLength(part) > MAX_IDENTIFIER_BYTES || part.includes('\0'))) {
      throw usageError(
        `Spec field ${field}: "${part.slice(0, 70)}" is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte identifier limit or holds a NUL character`,
        'PostgreSQL would truncate it to another name: use the real, shorter name.',
      );
    }
  }
  return name;
}

export function resolveSpec(input: unknown, file?: string): LoadedSpec {
  const result = specSchema.safeParse(input);
  const where = file ? path.basename(file) : 'the spec';
  if (!result.success) {
    const problems = formatIssues(result.error, input);
    throw usageError(
      `${where} is invalid: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
      `Fix the field named and run again; the editor checks the file against the JSON Schema as you type.`,
      problems,
    );
  }
  const spec = result.data;
  const folder = file ? path.dirname(file) : process.cwd();
  const tables = spec.tables.map((table, index) => ({
    spec: table,
    name: nameAt(`tables[${index}].name`, table.name),
    index,
  }));
  const seen = new Map<string, number>();
  for (const t of tables) {
    const key = `${t.name.schema ?? ''}.${t.name.name}`;
    if (seen.has(key))
      throw usageError(
        `Spec field tables[${t.index}].name: "${t.spec.name}" is listed twice (also tables[${seen.get(key)}])`,
        'List each table once.',
      );
    seen.set(key, t.index);
  }
  for (const t of tables) {
    if ('mapping' in t.spec.orgFrom && !spec.mapping) {
      throw usageError(
        `Spec field tables[${t.index}].orgFrom uses "mapping" but the spec has no "mapping" section`,
        'Add "mapping": { "table", "keyColumn", "orgColumn" } or use another orgFrom.',
      );
    }
    if ('mapping' in t.spec.orgFrom) {
      const columns = columnsOf(t.spec.orgFrom.mapping.column);
      const keys = columnsOf(spec.mapping!.keyColumn);
      if (columns.length !== keys.length) {
        throw usageError(
          `Spec field tables[${t.index}].orgFrom.mapping.column: ${plural(columns.length, 'column')} but mapping.keyColumn has ${keys.length}: give the same number, paired in order`,
          `Name as many columns as mapping.keyColumn (${keys.join(', ')}), in the same order.`,
        );
      }
    }
    if ('parent' in t.spec.orgFrom) nameAt(`tables[${t.index}].orgFrom.parent.table`, t.spec.orgFrom.parent.table);
  }
  spec.tests.forEach((test, i) => {
    if (test.cwd !== undefined) pathInside(folder, test.cwd, `Spec field tests[${i}].cwd`);
  });
  if (spec.authHook && spec.tenantContext.kind !== 'supabase-jwt') {
    throw usageError(
      'Spec field authHook needs tenantContext.kind "supabase-jwt"',
      'Remove authHook, or use the supabase-jwt tenant context.',
    );
  }
  if (spec.authHook) nameAt('authHook.membership.table', spec.authHook.membership.table);
  return {
    spec,
    file,
    scriptPath: pathInside(folder, spec.script, 'Spec field script'),
    orgsTable: nameAt('orgs.table', spec.orgs.table),
    mappingTable: spec.mapping ? nameAt('mapping.table', spec.mapping.table) : undefined,
    tables,
    tenantCredentials: spec.tenantCredentials
      ? {
          table: nameAt('tenantCredentials.table', spec.tenantCredentials.table),
          from: nameAt('tenantCredentials.from', spec.tenantCredentials.from),
        }
      : undefined,
    sharedTables: spec.sharedTables.map((name, index) => nameAt(`sharedTables[${index}]`, name)),
    views: Object.keys(spec.views).map((key) => ({ name: nameAt(`views["${key}"]`, key), field: `views["${key}"]` })),
    uniques: Object.keys(spec.uniques).map((key) => ({
      name: nameAt(`uniques["${key}"]`, key),
      field: `uniques["${key}"]`,
    })),
  };
}

export function parseSpecText(withBom: string, file?: string): LoadedSpec {
  // A spec saved "with BOM" (Notepad, some editors on Windows) is the same JSON.
  const text = withBom.replace(/^\uFEFF/, '');
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const first = errors[0]!;
    throw usageError(
      `${file ? path.basename(file) : 'The spec'} is not valid JSON: ${printParseErrorCode(first.error)} at ${lineAndColumn(text, first.offset)}`,
      'Fix the syntax at that position (comments and trailing commas are allowed).',
    );
  }
  return resolveSpec(value, file);
}

export function loadSpec(file: string): LoadedSpec {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usageError(
      `Cannot read the spec ${absolute}${code === 'ENOENT' ? ': no such file' : `: ${code}`}`,
      'Run "tenant-migrate init" to write one, or pass --config PATH.',
    );
  }
  return parseSpecText(text, absolute);
}
