// The lint of a whole file at once (tenant-migrate lint, the benchmark): one parse of the file splits it and gives
// every statement's tree; a file that does not parse, or has psql meta-commands, goes through the editor's file model
// (the scanner's split, one syntax error per statement).
import type { SqlStatement } from '../../script/parse';
import { SqlFileModel, type SqlParser } from '../file-model';
import { MigrationLinter } from './linter';
import type { LintDiagnostic, LintOptions, Node } from './types';

/** Skips whitespace and comments (nested block comments included) from `i`. */
function skipTrivia(text: string, i: number, end: number): number {
  for (;;) {
    while (i < end && /\s/.test(text[i]!)) i++;
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i);
      i = nl === -1 || nl > end ? end : nl + 1;
      continue;
    }
    if (text.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (text.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (text.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < end);
      continue;
    }
    return i;
  }
}

function byteToChar(text: string): (b: number) => number {
  if (Buffer.byteLength(text) === text.length) return (b) => b;
  const map: number[] = [];
  let chars = 0;
  for (const ch of text) {
    for (let k = 0; k < Buffer.byteLength(ch); k++) map.push(chars);
    chars += ch.length;
  }
  map.push(chars);
  return (b) => map[Math.min(b, map.length - 1)]!;
}

/** The statements of a file and their trees from one parse, or undefined when the file needs the scanner's split. */
export function splitByParse(
  parse: SqlParser['parseSync'],
  text: string,
): { items: SqlStatement[]; trees: (Node | null)[] } | undefined {
  if (/^[ \t]*\\/m.test(text)) return undefined;
  let stmts: { stmt?: Node; stmt_location?: number; stmt_len?: number }[];
  try {
    stmts = (parse(text).stmts ?? []) as typeof stmts;
  } catch {
    return undefined;
  }
  const toChar = byteToChar(text);
  const items: SqlStatement[] = [];
  const trees: (Node | null)[] = [];
  let line = 1;
  let counted = 0;
  for (const s of stmts) {
    const from = toChar(s.stmt_location ?? 0);
    const to = s.stmt_len ? toChar((s.stmt_location ?? 0) + s.stmt_len) : text.length;
    const start = skipTrivia(text, from, to);
    let end = to;
    while (end > start && /\s/.test(text[end - 1]!)) end--;
    if (end <= start) continue;
    for (; counted < start; counted++) if (text.charCodeAt(counted) === 10) line++;
    items.push({ kind: 'sql', text: text.slice(start, end), start, end, line });
    trees.push(s.stmt ?? null);
  }
  return { items, trees };
}

/** The lint of one file's text (with its syntax errors when it does not parse). */
export function lintText(parser: SqlParser, text: string, options: LintOptions = {}): LintDiagnostic[] {
  const split = splitByParse(parser.parseSync, text);
  if (!split) {
    const model = new SqlFileModel(parser);
    model.update(text);
    return model.diagnostics(options);
  }
  const linter = new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync);
  linter.seed(split.items.map((item, i) => [item.text, split.trees[i]!]));
  return linter.lint(split.items, { ...options, source: text });
}
