// `-- tenant-migrate-ignore rule-a, rule-b` (or squawk's `-- squawk-ignore …`) before a statement silences those rules
// for it; `-- tenant-migrate-ignore-file …` (`-- squawk-ignore-file …`) anywhere silences them for the file. No rule
// names: every rule.
import type { RuleMeta } from './types';

export interface Ignores {
  readonly all: boolean;
  readonly names: ReadonlySet<string>;
}

export const NO_IGNORES: Ignores = { all: false, names: new Set() };

const COMMENT = /--[ \t]*(?:tenant-migrate|squawk)-ignore(-file)?\b([^\n]*)/gi;

function collect(text: string, file: boolean): Ignores {
  if (!text.includes('-ignore')) return NO_IGNORES;
  let all = false;
  const names = new Set<string>();
  for (const match of text.matchAll(COMMENT)) {
    if (!!match[1] !== file) continue;
    const listed = match[2]!.split(/[\s,]+/).filter(Boolean);
    if (listed.length === 0) all = true;
    for (const name of listed) names.add(name.toLowerCase());
  }
  return all || names.size > 0 ? { all, names } : NO_IGNORES;
}

/** The statement-level ignores in the text just before a statement (the comments between it and the one before). */
export const statementIgnores = (gap: string) => collect(gap, false);
export const fileIgnores = (source: string) => collect(source, true);

export function ignored(rule: RuleMeta, ...sets: Ignores[]): boolean {
  return sets.some((s) => s.all || s.names.has(rule.id) || (!!rule.squawk && s.names.has(rule.squawk)));
}
