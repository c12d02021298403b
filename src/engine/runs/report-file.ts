// Writes the run report: reports/report-<started>.md and reports/latest.md in the work folder.
import fs from 'node:fs';
import path from 'node:path';
import type { Session } from '../db/session';
import type { GapReport } from '../gaps';
import type { Logger } from '../events';
import { scriptPathForReport } from '../paths';
import { renderReport, type StepOutcome } from '../report';
import type { LoadedSpec } from '../migration-spec/load';
import { operatorName } from '../state';
import { manualTicks } from '../manual-items';
import { sha256, TOOL_VERSION } from '../version';

export interface ReportSources {
  readonly session: Session;
  readonly spec: LoadedSpec;
  readonly workFolder: string;
  readonly scriptText: string;
  /** This process's steps; when it ran none, the steps as the database recorded them. */
  readonly outcomes: readonly StepOutcome[];
  readonly recordedOutcomes: () => Promise<StepOutcome[]>;
  readonly gaps?: GapReport;
  readonly logger: Logger;
  /** The spec's shared tables, as displayed. */
  readonly sharedTables?: string[];
}

export async function writeReportFile(sources: ReportSources, startedAt: string): Promise<string> {
  const { session, spec, logger } = sources;
  const manual = await manualTicks(session).catch((error: unknown) => {
    logger.warn(`The report lists no manual items: they could not be read (${(error as Error).message})`);
    return [];
  });
  const steps =
    sources.outcomes.length > 0
      ? [...sources.outcomes]
      : await sources.recordedOutcomes().catch((error: unknown) => {
          logger.warn(`The report lists no steps: the recorded steps could not be read (${(error as Error).message})`);
          return [];
        });
  const markdown = renderReport({
    database: session.description,
    operator: operatorName(),
    startedAt,
    finishedAt: new Date().toISOString(),
    toolVersion: TOOL_VERSION,
    scriptPath: scriptPathForReport(spec),
    scriptChecksum: sha256(sources.scriptText),
    steps,
    gaps: sources.gaps,
    manualItems: manual,
    sharedTables: sources.sharedTables,
  });
  const folder = path.join(sources.workFolder, 'reports');
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `report-${startedAt.replace(/[:.]/g, '-')}.md`);
  fs.writeFileSync(file, markdown);
  fs.writeFileSync(path.join(folder, 'latest.md'), markdown);
  return file;
}
