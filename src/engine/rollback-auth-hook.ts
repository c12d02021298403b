// Rollback of the auth hook section. The hook function is kept on purpose (Auth may still call it: dropping it would
// stop every sign-in), with what calling it needs: EXECUTE and USAGE on its schema for supabase_auth_admin, and its
// tenant_migration_auth schema. Its read policy on the membership table and the read privileges the migration gave
// are taken back (the hook never raises: without them it adds no org claim, which nothing uses after rollback).
import type { Session } from './db/session';
import { quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { MigrationModel } from './model';
import { HOOK_SCHEMA } from './names';
import { HOOK_POLICY, HOOK_PRIVILEGES_TABLE } from './script/sections/auth-hook';

type Exec = (sql: string) => Promise<void>;

/** Undoes the hook's policy and read privileges; returns what is kept and how to drop it, or undefined when there is no hook. */
export async function undoAuthHook(session: Session, m: MigrationModel, exec: Exec): Promise<string | undefined> {
  const policies = await session.query<{ relation: string }>(
    `SELECT polrelid::regclass::text AS relation FROM pg_policy WHERE polname = $1 ORDER BY 1`,
    [HOOK_POLICY],
  );
  for (const p of policies.rows) await exec(`DROP POLICY ${qi(HOOK_POLICY)} ON ${p.relation}`);
  const recorded = (
    await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [HOOK_PRIVILEGES_TABLE])
  ).rows[0]!.ok;
  if (!recorded) return undefined;
  const hook = m.authHook;
  const callSchema = hook ? `USAGE ON SCHEMA ${qi(hook.function.schema)}` : undefined;
  const given = (
    await session.query<{ privilege: string }>(
      `SELECT privilege FROM ${HOOK_PRIVILEGES_TABLE} WHERE NOT held_before ORDER BY 1`,
    )
  ).rows.map((r) => r.privilege);
  const keptGrants: string[] = [];
  for (const privilege of given) {
    if (privilege === callSchema) {
      keptGrants.push(privilege);
      continue;
    }
    await exec(`REVOKE ${privilege} FROM supabase_auth_admin`);
    await session.query(`DELETE FROM ${HOOK_PRIVILEGES_TABLE} WHERE privilege = $1`, [privilege]);
  }
  if (!hook) return undefined;
  const fn = `${qq(hook.function)}(jsonb)`;
  const exists = (await session.query<{ ok: boolean }>(`SELECT to_regprocedure($1) IS NOT NULL AS ok`, [fn])).rows[0]!
    .ok;
  if (!exists) return undefined;
  const drops = [
    `DROP FUNCTION ${fn};`,
    `DROP SCHEMA ${qi(HOOK_SCHEMA)} CASCADE;`,
    ...keptGrants.map((g) => `REVOKE ${g} FROM supabase_auth_admin;`),
  ];
  return `the auth hook ${fn} is kept (Auth may still call it; without the membership read it adds no org claim), with EXECUTE${keptGrants.length ? ` and ${keptGrants.join(', ')}` : ''} for supabase_auth_admin and the schema ${HOOK_SCHEMA}: switch the hook off in Authentication → Hooks, then ${drops.join(' ')}`;
}
