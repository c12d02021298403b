// Derives prototype scripts from the engine's generated migration script: each change proposed for
// src/engine/script/sections.ts, applied as an exact text edit of the generated SQL, so that the bench can run it
// (`npm run bench -- --script .bench/proto-….sql`) and show its effect before anyone changes the engine.
// An edit whose text is not found fails loudly: the engine changed, re-check the proposal.
// Usage: tsx bench/prototypes/derive.ts <generated.sql> <out.sql> <change,change,…|all> [--batch-size N] [--batch-target-ms MS]
import fs from 'node:fs';

type Change = (sql: string, options: { batchSize?: number; batchTargetMs?: number }) => string;

function edit(sql: string, from: string | RegExp, to: string | ((...m: string[]) => string), what: string): string {
  const matches = typeof from === 'string' ? sql.split(from).length - 1 : (sql.match(new RegExp(from.source, from.flags.includes('g') ? from.flags : `${from.flags}g`)) ?? []).length;
  if (matches === 0) throw new Error(`${what}: the text to change was not found (the engine's script changed?)`);
  return typeof from === 'string' ? sql.split(from).join(typeof to === 'string' ? to : to(from)) : sql.replace(from, to as never);
}

/** The text of the statements between two step markers (or to the end). */
function section(sql: string, step: string): { start: number; end: number } {
  const start = sql.indexOf(`-- @tenant-migration step=${step}\n`);
  if (start === -1) throw new Error(`no ${step} step in the script`);
  const next = sql.indexOf('-- @tenant-migration step=', start + 10);
  return { start, end: next === -1 ? sql.length : next };
}

export const CHANGES: Record<string, { title: string; apply: Change }> = {
  // The digest: hash_record_extended (the types' own 64-bit hash functions, as hash partitioning uses; stable across
  // versions) instead of md5 over the row's text and bit-string casts; the row's text for a table with a column type
  // that has no hash function (json, point, …).
  'digest-hash': {
    title: 'backup digest with hash_record_extended (text fallback)',
    apply: (sql) => edit(sql,
      `  RETURN QUERY EXECUTE format(
    'SELECT count(*)::bigint, coalesce(sum((''x'' || left(md5(ROW(%s)::text), 15))::bit(60)::bigint::numeric), 0)::text FROM %s AS t',
    row_expr, relation);`,
      `  BEGIN
    RETURN QUERY EXECUTE format(
      'SELECT count(*)::bigint, ''h1:'' || coalesce(sum(hash_record_extended(ROW(%s), 0)::numeric), 0)::text FROM %s AS t',
      row_expr, relation);
  EXCEPTION WHEN undefined_function THEN  -- a column type without an extended hash function
    RETURN QUERY EXECUTE format(
      'SELECT count(*)::bigint, ''t1:'' || coalesce(sum(hashtextextended(ROW(%s)::text, 0)::numeric), 0)::text FROM %s AS t',
      row_expr, relation);
  END;`, 'digest-hash'),
  },
  // The assignment tables: built in the prepare step (the tool's own state, before any change to the user's tables),
  // loaded in key order (btree appends instead of random inserts), and the primary key is the conflict check: the
  // preflight's GROUP BY … count(DISTINCT) sorts of every pair source go; the diagnosis query runs only on a conflict.
  'assign-in-prepare': {
    title: 'assignments built in prepare, sorted; the primary key is the conflict check',
    apply: (sql) => {
      const columns = section(sql, 'columns');
      const blocks = [...sql.slice(columns.start, columns.end).matchAll(/DO \$tm\$\nBEGIN\n  IF to_regclass\('"tenant_migration"\."assign_[\s\S]*?\n\$tm\$;\n\n/g)].map((m) => m[0]);
      if (blocks.length === 0) throw new Error('assign-in-prepare: no assignment blocks found');
      let out = sql;
      for (const b of blocks) out = edit(out, b, '', 'assign-in-prepare (remove from columns)');
      const rewritten = blocks.map((b) => b
        .replace(/(INSERT INTO ("tenant_migration"\."assign_\w+") \(key, org_id\)\n    SELECT DISTINCT q\.key, q\.org_id FROM \(([\s\S]*?)\) AS q WHERE q\.key IS NOT NULL AND q\.org_id IS NOT NULL);/,
          (_m, insert: string, table: string, pairs: string) => `BEGIN
      ${insert.replace('\n    SELECT', '\n      SELECT')}
      ORDER BY q.key;
    EXCEPTION WHEN unique_violation THEN
      RAISE EXCEPTION 'tenant-migration: conflicting org assignments for %: %', ${quote(table)}, (
        SELECT string_agg(format('%s -> {%s}', c.key, c.orgs), '; ') FROM (
          SELECT q.key, string_agg(DISTINCT q.org_id::text, ', ') AS orgs FROM (${pairs}) AS q
           WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL GROUP BY q.key HAVING count(DISTINCT q.org_id) > 1 ORDER BY q.key LIMIT 5) AS c)
        USING HINT = 'Each key must map to one org: delete the wrong rows, then run again.';
    END;`));
      // The preflight keeps the default-org check; the missing-org checks read the (small) orgs table against the
      // assignment table instead of re-reading the pair sources.
      const prepare = section(out, 'prepare');
      const pre = out.slice(prepare.start, prepare.end);
      const slim = pre.replace(/  SELECT string_agg\(format\('%s -> \{%s\}'[\s\S]*?USING HINT = 'Each key must map to one org: delete the wrong rows, then run again.';\n  END IF;\n/g, '')
        .replace(/SELECT \* FROM \((SELECT[\s\S]*?)\) AS q0\n    WHERE q0\.org_id IS NOT NULL/g, (m) => m); // missing-org checks kept as they are (cheap: orgs is small)
      if (slim === pre) throw new Error('assign-in-prepare: the preflight conflict checks were not found');
      const missingOrg = rewritten.map((b) => {
        const table = /INSERT INTO ("tenant_migration"\."assign_\w+")/.exec(b)![1]!;
        return `DO $tm$
DECLARE
  problem text;
BEGIN
  SELECT string_agg(DISTINCT a.org_id::text, ', ') INTO problem FROM (SELECT a0.org_id FROM ${table} AS a0
    WHERE NOT EXISTS (SELECT 1 FROM "public"."orgs" o WHERE o."id" = a0.org_id) LIMIT 5) AS a;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'tenant-migration: % assigns orgs that do not exist: %', ${quote(table)}, problem;
  END IF;
END
$tm$;

`;
      });
      const slimNoMissing = slim.replace(/  SELECT string_agg\(DISTINCT q\.org_id::text, ', '\) INTO problem[\s\S]*?USING HINT = 'Create those orgs, or fix the mapping rows, then run again.';\n  END IF;\n/g, '');
      return out.slice(0, prepare.start) + slimNoMissing + rewritten.join('') + missingOrg.join('') + out.slice(prepare.end);
    },
  },
  // One UPDATE per batch for mapping and query tables: the assignment or the default in one pass over the batch's
  // pages (the second UPDATE re-scanned the pages for the unassigned rows).
  'single-update': {
    title: 'one UPDATE per batch (assignment or default) for mapping/query tables',
    apply: (sql) => edit(sql,
      /    UPDATE ("public"\."\w+") AS t SET "org_id" = a\.org_id FROM ("tenant_migration"\."assign_\w+") AS a\n     WHERE (t\.ctid >= format\('\(%s,0\)', page\)::tid AND t\.ctid < format\('\(%s,0\)', page \+ pages_per_batch\)::tid AND t\."org_id" IS NULL) AND a\.key = t\.("\w+");\n    GET DIAGNOSTICS n = ROW_COUNT; done := done \+ n;\n    UPDATE \1 AS t SET "org_id" = ('[^']+'::\w+) WHERE \3;/g,
      (_m, table: string, assign: string, range: string, key: string, dflt: string) =>
        `    UPDATE ${table} AS t SET "org_id" = coalesce((SELECT a.org_id FROM ${assign} AS a WHERE a.key = t.${key}), ${dflt})\n     WHERE ${range};`,
      'single-update'),
  },
  // VACUUM (ANALYZE) of each table right after its backfill, with a lock timeout above deadlock_timeout (1 s) so that
  // it cancels an autovacuum that started on the backfilled table (a SHARE UPDATE EXCLUSIVE wait blocks no DML).
  // Autovacuum then has nothing left to do there, and the later ACCESS EXCLUSIVE statements (CHECK NOT VALID, SET NOT
  // NULL, RLS) no longer wait behind it for their whole lock_timeout (which stalls every writer queued behind them).
  'vacuum-after-backfill': {
    title: 'VACUUM (ANALYZE) each table right after its backfill (lock_timeout 10 s: preempts autovacuum)',
    apply: (sql) => {
      const vac = section(sql, 'vacuum');
      const statements = [...sql.slice(vac.start, vac.end).matchAll(/VACUUM \(ANALYZE\) ("public"\."(\w+)");\n/g)];
      let out = sql.slice(0, vac.start) + sql.slice(vac.end);
      for (const [, table, name] of statements) {
        out = edit(out, new RegExp(`(  UPDATE "tenant_migration"\\."backfill" SET completed_at = now\\(\\) WHERE table_schema = 'public' AND table_name = '${name}';\nEND\n\\$tm\\$;\n)`),
          (m: string) => `${m}\nSET lock_timeout = '10s';\n\nVACUUM (ANALYZE) ${table};\n\nSET lock_timeout = '1000ms';\n`, `vacuum-after-backfill ${name}`);
      }
      return out;
    },
  },
  // VALIDATE CONSTRAINT and CREATE INDEX CONCURRENTLY take SHARE UPDATE EXCLUSIVE: waiting for it blocks no writer,
  // so they may wait long enough (past deadlock_timeout) to cancel an autovacuum instead of failing after 1 s.
  'sue-lock-timeout': {
    title: 'lock_timeout 10 s for VALIDATE and CREATE INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE blocks no DML)',
    apply: (sql) => {
      let out = edit(sql, /(    ALTER TABLE "[\w".]+" VALIDATE CONSTRAINT)/g, `    SET LOCAL lock_timeout = '10s';\n$1`, 'sue-lock-timeout validate');
      out = edit(out, /(CREATE INDEX CONCURRENTLY IF NOT EXISTS [^\n]+\n)/g, `SET lock_timeout = '10s';\n\n$1\nSET lock_timeout = '1000ms';\n`, 'sue-lock-timeout cic');
      return out;
    },
  },
  // The ledger loaded in key order: appends to its primary key's rightmost leaf instead of random inserts.
  'ledger-sorted': {
    title: 'ledger INSERT … ORDER BY the key',
    apply: (sql) => edit(sql, /(INSERT INTO "public"\."tenant_credentials" \(credential_id, org_id, source\)\nSELECT c\."(\w+)",[^\n]*)\nON CONFLICT \(credential_id\) DO NOTHING;/,
      (_m, select: string, key: string) => `${select}\nORDER BY c."${key}"\nON CONFLICT (credential_id) DO NOTHING;`, 'ledger-sorted'),
  },
  // Rows that existed when the assignments were taken get the assignment's answer (as their backfill would): the
  // live lookup in the (often unindexed) mapping table, a sequential scan per row, only for rows inserted since.
  'trigger-live-lookup-inserts-only': {
    title: 'assign trigger: live mapping lookup for INSERTs only (an UPDATE of an unmapped row scanned the mapping)',
    apply: (sql) => edit(sql, /    IF NEW\."org_id" IS NULL THEN\n      SELECT q\./g, `    IF NEW."org_id" IS NULL AND TG_OP = 'INSERT' THEN\n      SELECT q.`, 'trigger-live-lookup-inserts-only'),
  },
  // Batches sized by time, not rows: after each batch, the next one gets as many pages as fit in the target time
  // (at most twice the last): row locks are held for about the target whatever the rows cost on this server and
  // whatever else it is doing, and the per-batch overhead (commit, progress row, notice) stays small.
  'adaptive-batch': {
    title: 'batch size adapted after each batch to a target duration (--batch-target-ms, default 100)',
    apply: (sql, { batchTargetMs }) => {
      const target = batchTargetMs ?? 100;
      let out = edit(sql, /  pages_per_batch int;\nBEGIN\n/g, '  pages_per_batch int;\n  batch_started timestamptz;\n  batch_ms float8;\nBEGIN\n', 'adaptive-batch declare');
      out = edit(out, /  WHILE page <= last_page LOOP\n/g, '  WHILE page <= last_page LOOP\n    batch_started := clock_timestamp();\n', 'adaptive-batch start');
      out = edit(out, /(    UPDATE "tenant_migration"\."backfill" SET next_page = page, rows_done = done WHERE [^\n]+\n    COMMIT;\n)/g,
        (m: string) => `${m}    batch_ms := 1000 * extract(epoch FROM clock_timestamp() - batch_started);\n` +
          `    pages_per_batch := greatest(1, least(pages_per_batch * 2, floor(pages_per_batch * ${target} / greatest(batch_ms, 1))))::int;\n`,
        'adaptive-batch adapt');
      return out;
    },
  },
  'batch-size': {
    title: 'rows per backfill batch (--batch-size)',
    apply: (sql, { batchSize }) => batchSize ? edit(sql, /pages_per_batch := greatest\(1, ceil\(\d+ \//g, `pages_per_batch := greatest(1, ceil(${batchSize} /`, 'batch-size') : sql,
  },
};

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export function derive(sql: string, names: string[], options: { batchSize?: number; batchTargetMs?: number } = {}): string {
  let out = sql;
  for (const name of names) {
    const change = CHANGES[name];
    if (!change) throw new Error(`unknown change ${name}: ${Object.keys(CHANGES).join(', ')}`);
    out = change.apply(out, options);
  }
  const header = `-- PROTOTYPE derived by bench/prototypes/derive.ts from the engine's generated script; changes: ${names.join(', ')}${options.batchSize ? ` (batch ${options.batchSize})` : ''}\n`;
  return header + out;
}

if (require.main === module) {
  const [input, output, list = 'all', ...rest] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: tsx bench/prototypes/derive.ts <generated.sql> <out.sql> <change,…|all> [--batch-size N]');
    process.exit(2);
  }
  const batchIndex = rest.indexOf('--batch-size');
  const batchSize = batchIndex >= 0 ? Number(rest[batchIndex + 1]) : undefined;
  const targetIndex = rest.indexOf('--batch-target-ms');
  const batchTargetMs = targetIndex >= 0 ? Number(rest[targetIndex + 1]) : undefined;
  // "all": every change but the time-sized batches (an alternative to a fixed --batch-size), asked for by name.
  const names = list === 'all' ? Object.keys(CHANGES).filter((n) => n !== 'adaptive-batch') : list.split(',');
  fs.writeFileSync(output, derive(fs.readFileSync(input, 'utf8'), names, { batchSize, batchTargetMs }));
  console.log(`${output}: ${names.map((n) => CHANGES[n]?.title ?? n).join('; ')}`);
}
