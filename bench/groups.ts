// Writes the generated script with other VACUUM groups for the backfill (the trade-off curve of issue 17 target 3):
// tsx bench/groups.ts URL MAX_GROUPS[,MAX_GROUPS…] [MIN_GROUP_MB] → .bench/groups-N.sql, to run as the scenarios
// engine:groups-N (npm run bench -- --scenarios naive,engine:groups-1,engine:groups-10 …).
import fs from 'node:fs';
import path from 'node:path';
import { Session } from '../src/engine/db/session';
import { resolveModel } from '../src/engine/model';
import { generateScript } from '../src/engine/script/generate';
import { resolveSpec } from '../src/engine/migration-spec/load';
import { legacySpec } from '../test/fixtures/legacy-data';

async function main(): Promise<void> {
  const [url, counts, minMb = '1'] = process.argv.slice(2);
  if (!url || !counts) throw new Error('Usage: tsx bench/groups.ts URL MAX_GROUPS[,MAX_GROUPS…] [MIN_GROUP_MB]');
  const work = path.join(__dirname, '..', '.bench');
  fs.mkdirSync(work, { recursive: true });
  const specFile = path.join(work, 'groups-spec', 'tenant-migration.json');
  fs.mkdirSync(path.dirname(specFile), { recursive: true });
  fs.writeFileSync(specFile, JSON.stringify(legacySpec({}), null, 2));
  const spec = resolveSpec(JSON.parse(fs.readFileSync(specFile, 'utf8')), specFile);
  const session = await Session.open(url, { lockTimeoutMs: spec.spec.lockTimeoutMs });
  try {
    const model = await resolveModel(session, spec);
    for (const maxGroups of counts.split(',').map(Number)) {
      const file = path.join(work, `groups-${maxGroups}.sql`);
      fs.writeFileSync(
        file,
        generateScript(model, { backfillGroups: { maxGroups, minGroupBytes: Number(minMb) * 1024 * 1024 } }),
      );
      console.log(file);
    }
  } finally {
    await session.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
