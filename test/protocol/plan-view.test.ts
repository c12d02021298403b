// The plan preview's view model, without VS Code: toPlanView keeps every statement, phase, finding and table, and
// matches the schema the protocol declares.
import assert from 'node:assert/strict';
import type { Plan } from '../../src/engine/plan';
import { HostMessageSchema, PlanViewSchema, toPlanView, type PlanSource } from '../../src/shared/protocol';
import { samplePlan } from './support/sample-plan';

describe('plan preview protocol', () => {
  describe('toPlanView', () => {
    it('accepts the engine Plan as its source (checked by the compiler)', () => {
      const source: PlanSource = samplePlan();
      assert.ok(source);
    });

    it('shows the schema shapes as findings of their table; a refused shape blocks the run', () => {
      const plan = { ...samplePlan(), gaps: { ...samplePlan().gaps, findings: [], blocking: false } };
      assert.equal(toPlanView(plan).gaps.blocking, false);
      const shaped = {
        ...plan,
        shapes: [
          {
            kind: 'inheritance' as const,
            table: 'public.reports',
            object: 'public.reports_archive',
            blocking: true,
            message: 'public.reports_archive inherits from public.reports',
            fix: 'ALTER TABLE "public"."reports_archive" NO INHERIT "public"."reports";',
          },
        ],
      };
      const view = PlanViewSchema.parse(toPlanView(shaped));
      assert.equal(view.gaps.blocking, true);
      const finding = view.gaps.tables
        .find((t) => t.table === 'public.reports')!
        .findings.find((f) => f.kind === 'schema-shape')!;
      assert.equal(finding.severity, 'error');
      assert.match(finding.advice, /NO INHERIT/);
    });

    it('keeps every statement, in order, with its line, SQL and locks', () => {
      const plan = samplePlan();
      const view = toPlanView(plan);
      const statements = view.phases.flatMap((p) => p.statements);
      assert.equal(statements.length, plan.statements.length);
      statements.forEach((s, i) => {
        const original = plan.statements[i]!;
        assert.equal(s.index, i);
        assert.equal(s.line, original.line);
        assert.equal(s.sql, original.sql);
        assert.deepEqual(
          s.locks,
          original.locks.map((l) => ({ ...l })),
        );
      });
    });

    it('groups consecutive statements by phase, with unique ids and titles', () => {
      const view = toPlanView(samplePlan());
      assert.deepEqual(
        view.phases.map((p) => [p.phase, p.statements.length]),
        [
          [null, 2],
          ['prepare', 1],
          ['backup', 1],
          ['columns', 2],
          ['indexes', 1],
          ['columns', 1],
        ],
      );
      assert.equal(new Set(view.phases.map((p) => p.id)).size, view.phases.length);
      assert.equal(view.phases[0]!.title, 'Session settings');
      assert.ok(view.phases.every((p) => p.title.length > 0));
      const columns = view.phases[3]!;
      assert.equal(columns.blockingStatements, 2);
      assert.deepEqual(columns.tables, ['public.credentials', 'public.reports']);
    });

    it('marks psql meta-commands', () => {
      const [meta, set] = toPlanView(samplePlan()).phases[0]!.statements;
      assert.equal(meta!.kind, 'psql');
      assert.equal(set!.kind, 'sql');
    });

    it('keeps every gap finding, grouped by table, blocking ones first and shown as errors with what to do', () => {
      const plan = samplePlan();
      const view = toPlanView(plan);
      const findings = view.gaps.tables.flatMap((t) => t.findings);
      assert.equal(findings.length, plan.gaps.findings.length);
      for (const f of plan.gaps.findings) {
        const group = view.gaps.tables.find((t) => t.table === f.table);
        assert.ok(group, `no group for ${f.table}`);
        const found = group.findings.find((g) => g.kind === f.kind);
        assert.ok(found, `${f.kind} on ${f.table} was dropped`);
        assert.equal(found.count, f.count);
        assert.equal(found.message, f.message);
        assert.equal(found.blocking, f.blocking);
        assert.equal(found.samples.length, f.samples.length);
        assert.ok(found.advice.length > 0);
        assert.equal(found.severity === 'error', f.blocking);
      }
      const credentials = view.gaps.tables[0]!;
      assert.deepEqual(
        credentials.findings.map((f) => f.kind),
        ['conflict', 'unmapped'],
      );
      assert.deepEqual(credentials.assignment, {
        rule: 'mapping public.legacy_credential_org_map by id',
        rows: 200,
        assigned: 172,
        toDefault: 28,
        estimated: false,
      });
      assert.equal(view.gaps.blocking, true);
    });

    it('keeps a finding for a table the report has no counts for, and a sample without a key', () => {
      const view = toPlanView(samplePlan());
      const layouts = view.gaps.tables.find((t) => t.table === 'public.dashboard_layouts');
      assert.ok(layouts);
      assert.equal(layouts.assignment, null);
      assert.equal(layouts.findings[0]!.kind, 'missing-org');
      const reports = view.gaps.tables.find((t) => t.table === 'public.reports')!;
      assert.deepEqual(reports.findings[0]!.samples, [{ key: null, detail: 'no credential_id' }]);
    });

    it('names how each table gets its org, and gives rows a query misses advice other than the mapping stub', () => {
      const plan = samplePlan();
      const withQuery: Plan = {
        ...plan,
        gaps: {
          ...plan.gaps,
          tables: [
            ...plan.gaps.tables,
            {
              table: 'public.layouts',
              rule: 'query by user_id',
              rows: 80,
              assigned: 72,
              toDefault: 8,
              estimated: false,
            },
          ],
          findings: [
            ...plan.gaps.findings,
            {
              kind: 'unmapped',
              table: 'public.layouts',
              count: 8,
              samples: [{ key: 'u9' }],
              blocking: false,
              message: '8 rows have no mapping',
            },
          ],
        },
      };
      const view = toPlanView(withQuery);
      const kinds = Object.fromEntries(view.gaps.tables.map((t) => [t.table, t.ruleKind]));
      assert.deepEqual(kinds, {
        'public.credentials': 'mapping',
        'public.reports': 'parent',
        'public.layouts': 'query',
        'public.dashboard_layouts': 'unknown',
      });
      const advice = (table: string) =>
        view.gaps.tables.find((t) => t.table === table)!.findings.find((f) => f.kind === 'unmapped')!.advice;
      assert.match(advice('public.credentials'), /mapping stub/);
      assert.doesNotMatch(advice('public.layouts'), /mapping stub/);
      assert.match(advice('public.layouts'), /query/);
    });

    it('keeps the tables with their estimates and sizes', () => {
      const plan = samplePlan();
      assert.deepEqual(toPlanView(plan).tables, plan.tables);
    });

    it('is serialisable and matches the schema the protocol declares', () => {
      const view = toPlanView(samplePlan());
      assert.deepEqual(JSON.parse(JSON.stringify(view)), view);
      const parsed = PlanViewSchema.safeParse(view);
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
      assert.ok(HostMessageSchema.safeParse({ type: 'plan', plan: view }).success);
    });

    it("keeps a first answer's pending checks (the webview says it is still checking and holds Run); the exact plan has none", () => {
      const pending = ['public.credentials: keys mapped to two orgs'];
      const first = {
        ...samplePlan(),
        gaps: {
          ...samplePlan().gaps,
          findings: samplePlan().gaps.findings.filter((f) => !f.blocking),
          blocking: false,
          pending,
        },
      };
      const view = PlanViewSchema.parse(toPlanView(first));
      assert.deepEqual(view.gaps.pending, pending);
      assert.equal(view.gaps.blocking, false);
      assert.equal('pending' in toPlanView(samplePlan()).gaps, false);
      assert.equal('pending' in toPlanView({ ...first, gaps: { ...first.gaps, pending: [] } }).gaps, false);
    });

    it('handles an empty plan', () => {
      const view = toPlanView({
        scriptPath: 's.sql',
        scriptExists: true,
        statements: [],
        tables: [],
        gaps: { tables: [], findings: [], blocking: false },
      });
      assert.deepEqual(view.phases, []);
      assert.deepEqual(view.gaps, { tables: [], blocking: false });
    });
  });
});
