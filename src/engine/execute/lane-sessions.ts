// The runner's second (and further) sessions for lanes: opened beside the step's session, with its settings.
import type { Session } from '../db/session';
import { describePgError } from '../db/pg-errors';

export type SessionSettings = readonly { name: string; setting: string }[];

/**
 * What the script (and the tool) set on the step's session: row_security, lock_timeout, a role… (not its
 * application_name: the lanes' session keeps its own name in pg_stat_activity). The session's authorization comes
 * first (setting it resets the role) and the role last (the settings before it may need the session's own rights).
 */
export async function sessionSettings(main: Session): Promise<SessionSettings> {
  const { rows } = await main.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE source = 'session' AND name <> 'application_name'
      ORDER BY name = 'role', name <> 'session_authorization', name`,
  );
  return rows;
}

/**
 * Gives a lane's session exactly the step session's settings (what the step session reset is reset here too), so that
 * it runs its statements as that session would; and no idle_session_timeout, which would end it while it waits.
 */
export async function applySettings(session: Session, settings: SessionSettings): Promise<void> {
  await session.query('RESET ALL');
  if (settings.length > 0)
    await session.query(
      `SELECT set_config(s.name, s.setting, false)
         FROM ROWS FROM (json_to_recordset($1::json) AS (name text, setting text)) WITH ORDINALITY AS s(name, setting, n)
        ORDER BY s.n`,
      [JSON.stringify(settings)],
    );
  await session.query(
    `SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('server_version_num')::int >= 140000`,
  );
}

/** Up to `count` more sessions; when one cannot be opened the lanes run on those there are, and `problem` says why. */
export async function openLaneSessions(
  main: Session,
  count: number,
): Promise<{ sessions: Session[]; problem?: string }> {
  const { sessions, ...opened } = await main.siblings('tenant-migration lane', count);
  return { sessions, problem: 'failure' in opened ? describePgError(opened.failure) : undefined };
}

/**
 * Before a VACUUM beside another session's batches: waits (at most `limitMs`) until each of `pids` has started a
 * transaction after this moment or is idle, so that the dead row versions the VACUUM should free are older than
 * every snapshot it sees (a batch that began before the last one here committed would keep them alive).
 */
export async function waitForNewerTransactions(
  session: Session,
  pids: readonly number[],
  limitMs = 2000,
): Promise<void> {
  if (pids.length === 0) return;
  const { rows } = await session.query<{ now: string }>('SELECT clock_timestamp()::text AS now');
  const since = rows[0]!.now;
  const until = performance.now() + limitMs;
  for (;;) {
    const { rows: older } = await session.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND xact_start <= $2::timestamptz`,
      [pids, since],
    );
    if (older[0]!.n === 0 || performance.now() > until) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
