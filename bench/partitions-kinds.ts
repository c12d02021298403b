// What kind of work a statement of the migration script is, to compare where two runs spend their time.
const KINDS: [string, RegExp][] = [
  ['backfill', /^DO[\s\S]*backfill[\s\S]*UPDATE /],
  ['vacuum between groups', /^VACUUM \(INDEX_CLEANUP OFF\)/],
  ['vacuum analyze', /^VACUUM \(ANALYZE\)|^ANALYZE /],
  ['reindex', /^REINDEX /],
  ['index build', /^CREATE (UNIQUE )?INDEX CONCURRENTLY/],
  ['not null / foreign key', /NOT NULL|FOREIGN KEY|VALIDATE CONSTRAINT|CHECK \(/],
  ['add column', /ADD COLUMN/],
];

export function statementKind(sql: string): string {
  const text = sql.replace(/^(\s*--[^\n]*\n)+/, '').trim();
  return KINDS.find(([, re]) => re.test(text))?.[0] ?? 'other';
}
