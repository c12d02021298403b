// After sign-off: switch off the help for applications that do not set the org yet; drop backups.
import type { Session } from './db/session';
import { quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { MigrationModel } from './model';
import { ASSIGN_TRIGGER, STATE_SCHEMA, names } from './names';
import { currentBackups } from './backups';

export async function finalize(session: Session, m: MigrationModel): Promise<number> {
  return session.transaction(async () => {
    let dropped = 0;
    for (const t of m.tables) {
      const { rows } = await session.query(`SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2`, [
        qq(t.name),
        ASSIGN_TRIGGER,
      ]);
      if (rows.length === 0) continue;
      await session.query(`DROP TRIGGER ${qi(ASSIGN_TRIGGER)} ON ${qq(t.name)}`);
      await session.query(`DROP FUNCTION IF EXISTS ${qq(names.assignFunction(t.name))}()`);
      await session.query(`DROP TABLE IF EXISTS ${qq(names.assignTable(t.name))}`);
      dropped++;
    }
    return dropped;
  });
}

export async function cleanupBackups(session: Session): Promise<string[]> {
  return session.transaction(async () => {
    const dropped: string[] = [];
    for (const b of await currentBackups(session)) {
      await session.query(`DROP TABLE IF EXISTS ${qq({ schema: STATE_SCHEMA, name: b.backupTable })}`);
      await session.query(`UPDATE ${names.state('backups')} SET status = 'dropped' WHERE backup_table = $1`, [
        b.backupTable,
      ]);
      dropped.push(`${STATE_SCHEMA}.${b.backupTable}`);
    }
    return dropped;
  });
}
