// What a rule is: its description (RuleMeta) and the checks it runs per statement and at the end of the file.
import type { LintContext, LintStatement } from '../context';
import type { LintFix, RuleMeta, Severity } from '../types';

export type Report = (rule: RuleMeta, s: LintStatement, what: string, fix?: LintFix, severity?: Severity) => void;

export interface Rule extends RuleMeta {
  /** The statement types the rule looks at (libpg-query node names). */
  readonly on?: readonly string[];
  check?(s: LintStatement, ctx: LintContext, report: Report): void;
  /** After the last statement (what the file left open or never did). */
  finish?(ctx: LintContext, report: Report): void;
}

/** A fix that replaces the first match of `pattern` in the statement's text. */
export function replaceIn(
  s: LintStatement,
  pattern: RegExp,
  title: string,
  replace: (match: RegExpExecArray) => string,
): LintFix | undefined {
  const match = pattern.exec(s.text);
  if (!match) return undefined;
  const start = s.start + match.index;
  return { title, start, end: start + match[0].length, text: replace(match) };
}

export const insertAt = (title: string, at: number, text: string): LintFix => ({ title, start: at, end: at, text });

/** An identifier as SQL text, quoted only when it must be. */
export const ident = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);
export const qualified = (table: string) => table.split('.').map(ident).join('.');
