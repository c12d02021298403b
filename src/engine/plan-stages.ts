// The plan in two stages: a first answer from the catalog and samples (the exact blocking checks it could not answer
// listed as pending), then the exact one. Everything but the gaps is read once and shared by both answers.
import type { Session } from './db/session';
import { estimateDisk, type FreeSpaceReader } from './disk-estimate';
import { parseUnits } from './execute/runner';
import { findGaps, isExact, type GapOptions, type GapReport } from './gaps';
import type { MigrationModel } from './model';
import { buildPlan, type Plan } from './plan';
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
    const script = host
      .scriptText()
      .then(async ({ text, exists }) => ({ text, units: await parseUnits(text), exists }));
    // Queued on the host's session while the gaps are read on others and the script is parsed here.
    const context = (async () => {
      const shapes = await findShapes(host.session, model);
      const roles = await accessRoles(host.session, model);
      const disk = await estimateDisk(host.session, model, options.readFreeSpace);
      return { shapes, roles, disk };
    })();
    const build = async (gaps: GapReport): Promise<Plan> => {
      const [{ parseSync }, { text, units, exists }, { shapes, roles, disk }] = await Promise.all([
        parser,
        script,
        context,
      ]);
      return {
        ...buildPlan(parseSync as never, model, { text, units }, gaps, shapes, exists),
        accessRoles: roles,
        disk,
      };
    };
    if (!opening) {
      await context; // the gaps may read on the host's session too, in a transaction of their own
      return await build(await host.gaps(exactOptions));
    }
    const opened = await opening;
    if ('failure' in opened) throw opened.failure;
    const { sessions } = opened;
    const estimate = await findGaps(sessions, model, { firstAnswer: true });
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
