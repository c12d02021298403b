// The one definition of every step: its title, whether it writes, what `run` does with it, its CLI command and its
// extension command. The CLI's commands, the extension's operations and command rows, the checklist and the run
// sequence are all derived from this table. A step's body is its own file, src/engine/steps/<id>.ts, exporting
// `body` (src/engine/runs/step-body.ts loads it by id). Adding a step: one entry here, one file there (and, if it has
// an extension command, its row in package.json, which test/vscode/suite/commands.test.ts checks against this table).
//
// Light on purpose: the extension's activation bundle reads it, so it imports types only.
import type { ScriptStep } from './script/generate';

export interface StepDefinition {
  /** In the checklist, the report, the log and the progress notification. */
  readonly title: string;
  /**
   * Changes the database's schema, data or backups: the CLI asks for confirmation and the extension asks on a
   * production connection. (What the engine records in tenant_migration about a step does not count.)
   */
  readonly writes: boolean;
  /** A row of the checklist (in this table's order). */
  readonly checklist: boolean;
  /**
   * What `run` does with it: 'yes' runs it (in this table's order), 'opt-in' only with `run --<cli name>`, 'last'
   * after the others whether they failed or not (the report). Absent: `run` never runs it.
   */
  readonly inRun?: 'yes' | 'opt-in' | 'last';
  /**
   * Run on its own, it holds the run lock and is recorded as a run in tenant_migration (the read-only checks before a
   * run, prerequisites and preview, are recorded only inside a run).
   */
  readonly recorded: boolean;
  /**
   * The script phases it runs ('all': the whole script). Before such a step writes anything the script must parse
   * and the mapping must have no conflicts; its statements are cancelled by the script runner itself.
   */
  readonly scriptPhases?: readonly ScriptStep[] | 'all';
  /** Where the checklist's "Show SQL" opens the script: at a phase's marker, or the top. */
  readonly showsSql?: ScriptStep | 'top';
  /** `tenant-migrate <name>` and its line in --help. */
  readonly cli?: { readonly name: string; readonly help: string };
  /** The extension's command that runs the step (package.json contributes it with this title). */
  readonly command?: { readonly id: `tenantMigration.${string}`; readonly title: string };
  /** Its share of a run's progress bar. */
  readonly weight: number;
}

export const STEP_REGISTRY = {
  prerequisites: {
    title: 'Prerequisites',
    writes: false,
    checklist: true,
    inRun: 'yes',
    recorded: false,
    showsSql: 'prepare',
    weight: 4,
    command: { id: 'tenantMigration.checkPrerequisites', title: 'Check Prerequisites' },
  },
  preview: {
    title: 'Preview',
    writes: false,
    checklist: true,
    inRun: 'yes',
    recorded: false,
    showsSql: 'top',
    weight: 3,
  },
  backup: {
    title: 'Back up',
    writes: true,
    checklist: true,
    inRun: 'yes',
    recorded: true,
    scriptPhases: ['prepare', 'backup'],
    showsSql: 'backup',
    weight: 15,
    cli: { name: 'backup', help: 'take the backups (once per migration)' },
    command: { id: 'tenantMigration.backup', title: 'Back Up' },
  },
  migrate: {
    title: 'Migrate',
    writes: true,
    checklist: true,
    inRun: 'yes',
    recorded: true,
    scriptPhases: 'all',
    showsSql: 'columns',
    weight: 60,
    cli: { name: 'migrate', help: 'run the migration script (resumable)' },
    command: { id: 'tenantMigration.migrate', title: 'Migrate' },
  },
  validate: {
    title: 'Validate',
    writes: false,
    checklist: true,
    inRun: 'yes',
    recorded: true,
    weight: 9,
    cli: { name: 'validate', help: 'run the validation checks' },
    command: { id: 'tenantMigration.validate', title: 'Validate' },
  },
  isolation: {
    title: 'Verify isolation',
    writes: false,
    checklist: true,
    inRun: 'yes',
    recorded: true,
    weight: 7,
    cli: { name: 'verify-isolation', help: 'run the tenant isolation matrix' },
    command: { id: 'tenantMigration.verifyIsolation', title: 'Verify Isolation' },
  },
  tests: {
    title: 'Project tests',
    writes: false,
    checklist: true,
    inRun: 'yes',
    recorded: true,
    weight: 1,
    command: { id: 'tenantMigration.runTests', title: 'Run Project Tests' },
  },
  enforce: {
    title: 'Enforce isolation',
    writes: true,
    checklist: true,
    inRun: 'opt-in',
    recorded: true,
    weight: 2,
    cli: {
      name: 'enforce',
      help: 'end transition mode: requests without a tenant context see nothing, FORCE on (--app-sends-context to confirm; --undo to go back)',
    },
    command: { id: 'tenantMigration.enforce', title: 'Enforce Isolation (Deny Requests Without a Tenant Context)' },
  },
  report: { title: 'Report', writes: false, checklist: true, inRun: 'last', recorded: false, weight: 1 },
  rollback: {
    title: 'Roll back',
    writes: true,
    checklist: false,
    recorded: true,
    weight: 1,
    cli: {
      name: 'rollback',
      help: 'undo the migration, keeping rows written since (--restore-data to restore the backups)',
    },
    command: { id: 'tenantMigration.rollback', title: 'Roll Back' },
  },
  finalize: {
    title: 'Finalize',
    writes: true,
    checklist: false,
    recorded: true,
    weight: 1,
    cli: { name: 'finalize', help: 'stop assigning orgs to rows written without one (once the application sets it)' },
    command: { id: 'tenantMigration.finalize', title: 'Finalize (Stop Assigning Orgs to New Rows)' },
  },
  'export-tests': {
    title: 'Export isolation tests',
    writes: false,
    checklist: false,
    recorded: false,
    weight: 1,
    cli: {
      name: 'export-tests',
      help: 'write the isolation matrix as pgTAP files (--out DIR, default supabase/tests/database)',
    },
  },
  cleanup: {
    title: 'Clean up backups',
    writes: true,
    checklist: false,
    recorded: true,
    weight: 1,
    cli: { name: 'cleanup', help: 'drop the backups after sign-off' },
    command: { id: 'tenantMigration.cleanupBackups', title: 'Clean Up Backups' },
  },
} as const satisfies Record<string, StepDefinition>;

type Registry = typeof STEP_REGISTRY;
export type StepId = keyof Registry;
/** The steps the checklist shows. */
export type ChecklistStep = { [K in StepId]: Registry[K]['checklist'] extends true ? K : never }[StepId];
/** The steps with a `tenant-migrate` command of their own. */
export type CliStep = { [K in StepId]: Registry[K] extends { cli: object } ? K : never }[StepId];

export const STEP_IDS = Object.keys(STEP_REGISTRY) as StepId[];

export function stepDefinition(step: StepId): StepDefinition {
  return STEP_REGISTRY[step];
}

export function isStepId(value: string): value is StepId {
  return Object.hasOwn(STEP_REGISTRY, value);
}

/** The checklist's rows, in order. */
export const STEPS = STEP_IDS.filter((id): id is ChecklistStep => stepDefinition(id).checklist);

export const STEP_TITLES = Object.fromEntries(STEP_IDS.map((id) => [id, stepDefinition(id).title])) as Record<
  StepId,
  string
>;

/** The steps `run` runs from `from` on, with the opt-in ones asked for; the 'last' step (the report) is not included. */
export function runSequence(from: ChecklistStep = 'prerequisites', optIn: readonly StepId[] = []): StepId[] {
  const start = STEPS.indexOf(from);
  return STEP_IDS.filter((id) => {
    const { inRun, checklist } = stepDefinition(id);
    const included = inRun === 'yes' || (inRun === 'opt-in' && optIn.includes(id));
    return included && (!checklist || STEPS.indexOf(id as ChecklistStep) >= start);
  });
}

/** The step that `run` ends with whatever happened before (the report). */
export const LAST_RUN_STEP = STEP_IDS.find((id) => stepDefinition(id).inRun === 'last');

/** Runs (part of) the migration script. */
export const runsScript = (step: StepId): boolean => stepDefinition(step).scriptPhases !== undefined;

/** Applies the whole script: a success on a rehearsal connection counts as a rehearsal of it. */
export const appliesScript = (step: StepId): boolean => stepDefinition(step).scriptPhases === 'all';

/** The step run by `tenant-migrate <name>`. */
export function stepForCli(name: string): StepId | undefined {
  return STEP_IDS.find((id) => stepDefinition(id).cli?.name === name);
}

/** The steps `run` leaves out unless asked for, by their CLI name (`run --<name>`). */
export const OPT_IN_RUN_STEPS = STEP_IDS.filter((id) => stepDefinition(id).inRun === 'opt-in');
