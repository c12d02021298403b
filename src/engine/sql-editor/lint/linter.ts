// A lint for migration scripts, on a par with squawk: statements that hold strong locks on busy tables for long, that
// fail at run time or break the running application, DDL that is not idempotent, and row-level security that leaks.
// Works on PostgreSQL's parse trees (cached per statement text), DO blocks' bodies included.
import type { ScriptItem, SqlStatement } from '../../script/parse';
import { unqualifiedTables } from './ast';
import { LintContext, type LintStatement } from './context';
import { bodyQueries, bodyStatements } from './plpgsql';
import { RULES, type Report, type Rule } from './rules';
import { fileIgnores, ignored, NO_IGNORES, statementIgnores, type Ignores } from './suppress';
import type { LintDiagnostic, LintOptions, Node, ParsePlPgSqlSync, ParseSync } from './types';

export interface SyntaxProblem {
  readonly message: string;
  readonly offset: number;
}

function syntaxError(error: unknown, sql: string): SyntaxProblem {
  const e = error as { message?: string; sqlDetails?: { cursorPosition?: number } };
  const bytes = e.sqlDetails?.cursorPosition ?? 0;
  // The parser counts UTF-8 bytes; the editor counts characters.
  const offset = Buffer.from(sql).subarray(0, bytes).toString().length;
  return { message: e.message ?? String(error), offset: Math.min(offset, sql.length) };
}

/** Statement texts whose parse trees are kept; beyond it the cache starts over. */
const CACHE_LIMIT = 50_000;

/** Words that start a statement some rule looks at (a DO block without any is not parsed). */
const RULED_KEYWORDS = /\b(ALTER|CREATE|DROP|TRUNCATE|REINDEX|UPDATE|DELETE|SET|LOCK|COMMIT|ROLLBACK|START)\b/i;

/** A DO block's body statement, offsets relative to the DO statement. */
interface BodyPart {
  readonly type: string;
  readonly node: Node;
  readonly text: string;
  readonly offset: number;
  readonly guarded: boolean;
  readonly condition?: string;
  readonly ignores: Ignores;
}

/** A rule is on unless the options turn it off by its id or by squawk's name. */
export function ruleEnabled(rule: Rule, rules: LintOptions['rules']): boolean {
  return rules?.[rule.id] ?? (rule.squawk ? rules?.[rule.squawk] : undefined) ?? true;
}

const message = (rule: Rule, what: string) => `${what}: ${rule.lock ?? rule.summary}. Instead: ${rule.safe}.`;

export class MigrationLinter {
  private cache = new Map<string, Node | null>();
  private errors = new Map<string, SyntaxProblem>();
  private bodies = new Map<string, BodyPart[]>();

  constructor(
    private readonly parseSync: ParseSync,
    private readonly parsePlPgSql?: ParsePlPgSqlSync,
  ) {}

  /** PostgreSQL's syntax error for a statement that does not parse (its offset is within the statement). */
  syntaxErrorOf(sql: string): SyntaxProblem | undefined {
    this.tree(sql);
    return this.errors.get(sql);
  }

  /** The parse tree of a statement (cached by its text), or null when it does not parse. */
  treeOf(sql: string): Node | null {
    return this.tree(sql);
  }

  /**
   * Fills the cache for many statements with a few whole-batch parses instead of one parse per statement (a file
   * opened for the first time). A statement with a syntax error is found from the error's position and left out.
   */
  prime(items: readonly ScriptItem[]): void {
    let pending = items.filter((i): i is SqlStatement => i.kind === 'sql' && !this.cache.has(i.text));
    for (let failures = 0; pending.length > 0 && failures < 8;) {
      const starts: number[] = [];
      let text = '';
      for (const item of pending) {
        starts.push(text.length);
        text += `${item.text};\n`;
      }
      try {
        const stmts = this.parseSync(text).stmts ?? [];
        if (stmts.length !== pending.length) break;
        pending.forEach((item, i) => this.cache.set(item.text, stmts[i]?.stmt ?? null));
        return;
      } catch (error) {
        failures++;
        const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
        if (cursor === undefined || !/^[\x00-\x7f]*$/.test(text)) break;
        let bad = starts.findIndex((s, i) => cursor >= s && (i + 1 === starts.length || cursor < starts[i + 1]!));
        if (bad === -1) bad = pending.length - 1;
        this.prime(pending.slice(0, bad));
        this.tree(pending[bad]!.text);
        pending = pending.slice(bad + 1);
      }
    }
    for (const item of pending) this.tree(item.text);
  }

  /** Takes trees already parsed (a whole file parsed at once). */
  seed(trees: readonly (readonly [string, Node | null])[]): void {
    for (const [text, tree] of trees) if (!this.cache.has(text)) this.cache.set(text, tree);
  }

  /**
   * Primes the next `limit` statements not parsed yet (a slice of a large file's first lint); true when none are left,
   * or when the file has more statements than the cache keeps (lint() then parses them as it goes).
   */
  primeSome(items: readonly ScriptItem[], limit: number): boolean {
    if (items.length > CACHE_LIMIT) return true;
    const pending = items.filter((i): i is SqlStatement => i.kind === 'sql' && !this.cache.has(i.text));
    this.prime(pending.slice(0, limit));
    return pending.length <= limit;
  }

  private tree(sql: string): Node | null {
    let tree = this.cache.get(sql);
    if (tree === undefined) {
      try {
        tree = this.parseSync(sql).stmts?.[0]?.stmt ?? null;
      } catch (error) {
        tree = null;
        this.errors.set(sql, syntaxError(error, sql));
      }
      if (this.cache.size > CACHE_LIMIT) {
        this.cache.clear();
        this.errors.clear();
        this.bodies.clear();
      }
      this.cache.set(sql, tree);
    }
    return tree;
  }

  /** The statements a PL/pgSQL DO block runs (cached by the block's text). */
  private body(text: string): BodyPart[] {
    let parts = this.bodies.get(text);
    if (parts) return parts;
    parts = [];
    let parsed: unknown;
    // A body with no statement any rule looks at (RAISE, PERFORM, SELECT …) is not parsed.
    if (RULED_KEYWORDS.test(text.slice(2))) {
      try {
        parsed = this.parsePlPgSql?.(text);
      } catch {
        parsed = undefined;
      }
    }
    const statements = parsed ? bodyStatements(parsed) : [];
    this.prime(statements.map(({ query }) => ({ kind: 'sql', text: query, start: 0, end: query.length, line: 1 })));
    let cursor = 0;
    for (const { query, guarded, condition } of statements) {
      const tree = this.tree(query);
      const found = text.indexOf(query, cursor);
      const offset = found === -1 ? 0 : found;
      const ignores = found === -1 ? NO_IGNORES : statementIgnores(text.slice(cursor, found));
      if (found !== -1) cursor = found + query.length;
      if (!tree) continue;
      const type = Object.keys(tree)[0]!;
      parts.push({ type, node: tree[type] as Node, text: query, offset, guarded, condition, ignores });
    }
    this.bodies.set(text, parts);
    return parts;
  }

  /** Tables a function's body names without a schema. */
  private unqualified(s: LintStatement): string[] {
    const options = (s.node.options as Node[] | undefined) ?? [];
    const def = (name: string) =>
      options.map((o) => o.DefElem as { defname?: string; arg?: unknown }).find((d) => d?.defname === name)?.arg;
    const language = (def('language') as { String?: { sval?: string } } | undefined)?.String?.sval ?? 'sql';
    const source =
      (def('as') as { List?: { items?: { String?: { sval?: string } }[] } } | undefined)?.List?.items?.[0]?.String
        ?.sval ?? '';
    try {
      if (language === 'plpgsql') {
        const parsed = this.parsePlPgSql?.(s.text);
        return parsed
          ? bodyQueries(parsed).flatMap((q) => {
              const tree = this.tree(q);
              return tree ? unqualifiedTables(tree) : [];
            })
          : [];
      }
      if (language === 'sql') return unqualifiedTables(this.parseSync(source));
    } catch {
      /* a body that does not parse is PostgreSQL's to report */
    }
    return [];
  }

  lint(items: readonly ScriptItem[], options: LintOptions = {}): LintDiagnostic[] {
    const ctx = new LintContext(options);
    ctx.unqualifiedInBody = (s) => this.unqualified(s);
    const rules = RULES.filter((r) => ruleEnabled(r, options.rules));
    const byType = new Map<string, Rule[]>();
    for (const rule of rules) for (const type of rule.on ?? []) byType.set(type, [...(byType.get(type) ?? []), rule]);
    const file = options.source ? fileIgnores(options.source) : NO_IGNORES;
    const ignoresOf = new Map<LintStatement, Ignores[]>();
    const out: LintDiagnostic[] = [];
    const report: Report = (rule, s, what, fix, severity) => {
      if (ignored(rule, file, ...(ignoresOf.get(s) ?? []))) return;
      out.push({
        code: rule.id,
        severity: severity ?? rule.severity,
        message: message(rule as Rule, what),
        start: s.start,
        end: s.end,
        fix,
      });
    };
    let previousEnd = 0;
    for (const item of items) {
      const gap = options.source ? statementIgnores(options.source.slice(previousEnd, item.start)) : NO_IGNORES;
      previousEnd = item.end;
      if (item.kind !== 'sql') continue;
      const tree = this.tree(item.text);
      if (!tree) continue;
      const type = Object.keys(tree)[0]!;
      const top: LintStatement = {
        type,
        node: tree[type] as Node,
        text: item.text,
        start: item.start,
        end: item.end,
        item,
        inBody: false,
        guarded: false,
      };
      const statements = [top];
      if (type === 'DoStmt') {
        for (const part of this.body(item.text)) {
          const s: LintStatement = {
            type: part.type,
            node: part.node,
            text: part.text,
            start: item.start + part.offset,
            end: item.start + part.offset + part.text.length,
            item,
            inBody: true,
            guarded: part.guarded,
            guardCondition: part.condition,
          };
          ignoresOf.set(s, [gap, part.ignores]);
          statements.push(s);
        }
      }
      ignoresOf.set(top, [gap]);
      for (const s of statements) {
        for (const rule of byType.get(s.type) ?? []) rule.check!(s, ctx, report);
        ctx.observe(s);
      }
      if (type === 'DoStmt') ctx.endBlock();
    }
    ctx.lastStatementEnd = items.at(-1)?.end ?? 0;
    for (const rule of rules) rule.finish?.(ctx, report);
    return out.sort((a, b) => a.start - b.start);
  }
}
