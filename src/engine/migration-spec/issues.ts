// Spec validation problems in the user's words: "field X: what is wrong — what to write", with "did you mean" for a
// mistyped field name (from the spec's JSON Schema, so every field the schema knows can be suggested).
import type { z } from 'zod';
import { specJsonSchema } from './json-schema';
import { didYouMean } from '../../shared/did-you-mean';

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
  type?: string;
  enum?: unknown[];
};

let rootSchema: JsonSchema | undefined;

export function fieldPath(issuePath: readonly PropertyKey[]): string {
  return (
    issuePath.reduce<string>(
      (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
      '',
    ) || '(top level)'
  );
}

/** The JSON Schemas that may describe the value at a path (several where the schema has alternatives). */
function schemasAt(issuePath: readonly PropertyKey[]): JsonSchema[] {
  rootSchema ??= specJsonSchema() as JsonSchema;
  let current: JsonSchema[] = [rootSchema];
  const expand = (list: JsonSchema[]) => list.flatMap((s) => [s, ...(s.anyOf ?? []), ...(s.oneOf ?? [])]);
  for (const key of issuePath) {
    current = expand(current).flatMap((s) =>
      typeof key === 'number'
        ? s.items
          ? [s.items]
          : []
        : s.properties?.[String(key)]
          ? [s.properties[String(key)]!]
          : [],
    );
  }
  return expand(current);
}

function received(issue: z.core.$ZodIssue, input: unknown): string {
  const value = issue.path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    input,
  );
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string'
    ? `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
    : `${typeof value === 'object' ? 'an object' : `the ${typeof value} ${String(value)}`}`;
}

/** One line per problem: "field X: what is wrong — what to write". */
export function formatIssues(error: z.ZodError, input?: unknown): string[] {
  // A mistyped name explains the missing field it was meant to be: it comes first.
  const issues = [...error.issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  );
  return issues.map((issue) => {
    if (issue.code === 'invalid_union' && issue.path.at(-1) === 'orgFrom') {
      const chosen = chosenBranch(issue.errors);
      if (chosen)
        return chosen
          .map((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, input))
          .join('; ');
      return `field ${fieldPath(issue.path)}: must be one of { "mapping": {...} }, { "parent": {...} } or { "query": {...} }`;
    }
    return describeIssue(issue, input);
  });
}

/** The union branch the user meant: the one whose only complaints are inside its own key (not the key's absence). */
function chosenBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  return branches.find((errors) => errors.length > 0 && errors.every((e) => e.path.length > 1));
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = `field ${fieldPath(issue.path)}`;
  const schemas = schemasAt(issue.path);
  const describe = schemas.map((s) => s.description).find(Boolean);
  const write = describe ? ` — ${describe}` : '';
  if (issue.code === 'unrecognized_keys') {
    const known = [...new Set(schemas.flatMap((s) => Object.keys(s.properties ?? {})))].filter((k) => k !== '$schema');
    return `${field}: unknown field ${issue.keys
      .map((k) => {
        const guess = didYouMean(k, known);
        return `"${k}"${guess ? ` (did you mean "${guess}"?)` : ''}`;
      })
      .join(', ')} — the fields here are ${known.map((k) => `"${k}"`).join(', ')}`;
  }
  if (
    issue.code === 'invalid_type' &&
    /received array/.test(issue.message) &&
    ['column', 'references'].includes(String(issue.path.at(-1)))
  ) {
    return `${field}: must be one column name, not a list (a query returns one key column; for a composite key use a mapping rule, whose column and mapping.keyColumn may be lists, or a parent rule, whose column and references may be)`;
  }
  if (issue.code === 'invalid_type') {
    const got = received(issue, input);
    return `${field}: ${got === 'missing' ? 'is missing' : `is ${got}`}, expected ${issue.expected === 'array' ? 'a list' : `${/^[aeiou]/.test(String(issue.expected)) ? 'an' : 'a'} ${issue.expected}`}${write}`;
  }
  if (issue.code === 'invalid_value')
    return `${field}: is ${received(issue, input)}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${write}`;
  if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'number') {
    const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
    return `${field}: is ${received(issue, input)}, must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)}${write}`;
  }
  return `${field}: ${issue.message}${write}`;
}
