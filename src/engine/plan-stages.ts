// The plan in two stages: a first answer from the catalog and samples (the exact blocking checks it could not answer
// listed as pending), then the exact one. Everything but the gaps is read once and shared by both answers.
import type { Session } from './db/session';
import { estimateDisk, type FreeSpaceReader } from './disk-estimate';
import { parseUnits } from './execute/runner';
import { findGaps, isExact, type GapOptions, type GapReport } from './gaps';
import type { MigrationModel } from './model';
import { buildPlan, plannedStatements, type Plan, type PlannedStatement } from './plan';
import { accessRoles } from './roles';
import { loadParser } from './script/parse';
import { findShapes } from './shapes';

export interface PlanOptions {
  /** Count every row of large tables (by default the rows that get the default org are estimated from a sample). */
  readonly exact?: boolean;
  /** Receives the first answer (estimates, `gaps.pending` listing the exact checks still running) before the exact one. */
  readonly onFirstAnswer?: (plan: Plan) => void;
  /** Where the free disk space is read (default: the server's data directory, when it is on this machine). */
  readonly readFreeSpace?: FreeSpaceReader;
}

export interface PlanHost {
  readonly session: Session;
  model(): Promise<MigrationModel>;
  scriptText(): Promise<{ text: string; exists: boolean }>;
  /** The gap report for these options when one is known already. */
  knownGaps(options: GapOptions): GapReport | undefined;
  /** The exact gap report, read on the sessions given (else the host's own and its siblings), and kept. */
  gaps(options: GapOptions, sessions?: readonly Session[]): Promise<GapReport>;
  /** Keeps a first answer that turned out exact, as gaps() keeps its reports. */
  keepGaps(report: GapReport): void;
}

/** The first answer's sessions, opened while the model is read: the gaps read on them, the rest on the host's. */
const ESTIMATE_SESSIONS = 3;

export async function planInStages(host: PlanHost, options: PlanOptions): Promise<Plan> {
  const exactOptions = { quick: !options.exact };
  const staged = options.onFirstAnswer && !host.knownGaps(exactOptions);
  // Every session that opened is closed below, whether the others did or not.
  const opening = staged ? host.session.siblings('tenant-migration preview', ESTIMATE_SESSIONS) : undefined;
  const parser = loadParser();
  try {
    const model = await host.model();
    // Queued on the host's session while the gaps are read on others and the script is parsed here.
    const context = awaitedLater(
      (async () => {
        const shapes = await findShapes(host.session, model);
        const roles = await accessRoles(host.session, model);
        const disk = await estimateDisk(host.session, model, options.readFreeSpace);
        return { shapes, roles, disk };
      })(),
    );
    let script: Promise<{ statements: PlannedStatement[]; exists: boolean }> | undefined;
    // Parsed in slices: the queries sent before it are answered while it runs.
    const planned = () =>
      (script ??= awaitedLater(
        host.scriptText().then(async ({ text, exists }) => {
          const units = await parseUnits(text);
          const { parseSync } = await parser;
          return { exists, statements: await plannedStatements(parseSync as never, model, { text, units }) };
        }),
      ));
    const build = async (gaps: GapReport): Promise<Plan> => {
      const [statements, { shapes, roles, disk }] = await Promise.all([planned(), context]);
      return { ...buildPlan(model, statements, gaps, shapes), accessRoles: roles, disk };
    };
    if (!opening) {
      void planned();
      await context; // the gaps may read on the host's session too, in a transaction of their own
      return await build(await host.gaps(exactOptions));
    }
    const opened = await opening;
    if ('failure' in opened) throw opened.failure;
    const { sessions } = opened;
    const estimating = findGaps(sessions, model, { firstAnswer: true });
    void planned(); // after the first answer's samples are sent
    const estimate = await estimating;
    if (isExact(estimate)) {
      const { pending: _nothing, ...exact } = estimate;
      host.keepGaps(exact);
      return await build(exact);
    }
    options.onFirstAnswer!(await build(estimate));
    return await build(await host.gaps(exactOptions, sessions));
  } finally {
    for (const s of (await opening)?.sessions ?? []) await s.close();
  }
}

/** A promise awaited later: its failure is reported there, not as an unhandled rejection meanwhile. */
function awaitedLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
