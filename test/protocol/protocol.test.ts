// The plan preview's contract, without VS Code: the view model, message validation and the HTML's CSP.
import assert from 'node:assert/strict';
import type { Plan } from '../../src/engine/plan';
import {
  HostMessageSchema, MAX_SCRIPT_LINE, parseHostMessage, parseWebviewMessage, PlanViewSchema, toPlanView,
  type HostMessage, type PlanSource, type WebviewMessage,
} from '../../src/shared/protocol';
import { contentSecurityPolicy, planPreviewHtml } from '../../src/extension/plan-preview/html';
import { PreviewChannel } from '../../src/extension/plan-preview/channel';

const DEFAULT_ORG = '00000000-0000-0000-0000-000000000001';

/** A plan shaped like the engine's for the guide's tables, with every kind of statement and finding. */
function samplePlan(): Plan {
  return {
    scriptPath: '/ws/scripts/migrate_to_multitenant.sql',
    scriptExists: false,
    statements: [
      { line: 7, sql: '\\set ON_ERROR_STOP on', locks: [] },
      { line: 8, sql: "SET lock_timeout = '100ms'", locks: [] },
      { line: 14, phase: 'prepare', sql: 'CREATE SCHEMA IF NOT EXISTS "tenant_migration"', locks: [] },
      { line: 122, phase: 'backup', sql: 'DO $tm$\nBEGIN\n  PERFORM 1;\nEND\n$tm$',
        locks: [{ table: 'public.credentials', mode: 'ACCESS SHARE', blocksWrites: false, note: 'copies the table; writes continue' }] },
      { line: 182, phase: 'columns', sql: 'ALTER TABLE "public"."credentials" ADD COLUMN IF NOT EXISTS "org_id" uuid',
        locks: [{ table: 'public.credentials', mode: 'ACCESS EXCLUSIVE', blocksWrites: true, note: 'AddColumn' }] },
      { line: 227, phase: 'columns', sql: 'CREATE OR REPLACE TRIGGER "t" BEFORE INSERT OR UPDATE ON "public"."reports" FOR EACH ROW EXECUTE FUNCTION f()',
        locks: [{ table: 'public.reports', mode: 'SHARE ROW EXCLUSIVE', blocksWrites: true }] },
      { line: 519, phase: 'indexes', sql: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "credentials_org_id_idx" ON "public"."credentials" ("org_id")',
        locks: [{ table: 'public.credentials', mode: 'SHARE UPDATE EXCLUSIVE', blocksWrites: false, note: 'CONCURRENTLY' }] },
      // A phase marker used twice, not one after the other: two groups, two ids.
      { line: 600, phase: 'columns', sql: 'SELECT 1', locks: [] },
    ],
    tables: [
      { table: 'public.credentials', estimatedRows: 200, totalBytes: 73_728 },
      { table: 'public.reports', estimatedRows: 600, totalBytes: 122_880 },
    ],
    gaps: {
      tables: [
        { table: 'public.credentials', rule: 'mapping public.legacy_credential_org_map by id', rows: 200, assigned: 172, toDefault: 28, estimated: false },
        { table: 'public.reports', rule: 'parent public.credentials via credential_id', rows: 600, assigned: 546, toDefault: 54, estimated: false },
      ],
      findings: [
        { kind: 'unmapped', table: 'public.credentials', count: 28, samples: [{ key: '7' }, { key: '14' }], blocking: false,
          message: `28 rows have no mapping and get the default org ${DEFAULT_ORG}` },
        { kind: 'conflict', table: 'public.credentials', count: 2, samples: [{ key: '2', detail: 'maps to a, b' }], blocking: true,
          message: '2 keys map to more than one org in the mapping table: the run refuses until each maps to one org' },
        // PostgreSQL reports a row without a key as NULL, whatever the engine's type says.
        { kind: 'orphan-child', table: 'public.reports', count: 54, samples: [{ key: null as unknown as string, detail: 'no credential_id' }], blocking: false,
          message: '54 rows have no parent row and get the default org' },
        { kind: 'missing-org', table: 'public.dashboard_layouts', count: 1, samples: [{ key: 'u1', detail: 'org x does not exist' }], blocking: true,
          message: '1 mapping row points to an org that does not exist in public.orgs' },
      ],
      blocking: true,
    },
    shapes: [],
  };
}

describe('plan preview protocol', () => {
  describe('toPlanView', () => {
    it('accepts the engine Plan as its source (checked by the compiler)', () => {
      const source: PlanSource = samplePlan();
      assert.ok(source);
    });

    it('shows the schema shapes as findings of their table; a refused shape blocks the run', () => {
      const plan = { ...samplePlan(), gaps: { ...samplePlan().gaps, findings: [], blocking: false } };
      assert.equal(toPlanView(plan).gaps.blocking, false);
      const shaped = { ...plan, shapes: [{ kind: 'inheritance' as const, table: 'public.reports', object: 'public.reports_archive', blocking: true,
        message: 'public.reports_archive inherits from public.reports', fix: 'ALTER TABLE "public"."reports_archive" NO INHERIT "public"."reports";' }] };
      const view = PlanViewSchema.parse(toPlanView(shaped));
      assert.equal(view.gaps.blocking, true);
      const finding = view.gaps.tables.find((t) => t.table === 'public.reports')!.findings.find((f) => f.kind === 'schema-shape')!;
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
        assert.deepEqual(s.locks, original.locks.map((l) => ({ ...l })));
      });
    });

    it('groups consecutive statements by phase, with unique ids and titles', () => {
      const view = toPlanView(samplePlan());
      assert.deepEqual(view.phases.map((p) => [p.phase, p.statements.length]),
        [[null, 2], ['prepare', 1], ['backup', 1], ['columns', 2], ['indexes', 1], ['columns', 1]]);
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
      assert.deepEqual(credentials.findings.map((f) => f.kind), ['conflict', 'unmapped']);
      assert.deepEqual(credentials.assignment, { rule: 'mapping public.legacy_credential_org_map by id', rows: 200, assigned: 172, toDefault: 28, estimated: false });
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
          tables: [...plan.gaps.tables, { table: 'public.layouts', rule: 'query by user_id', rows: 80, assigned: 72, toDefault: 8, estimated: false }],
          findings: [...plan.gaps.findings, { kind: 'unmapped', table: 'public.layouts', count: 8, samples: [{ key: 'u9' }], blocking: false, message: '8 rows have no mapping' }],
        },
      };
      const view = toPlanView(withQuery);
      const kinds = Object.fromEntries(view.gaps.tables.map((t) => [t.table, t.ruleKind]));
      assert.deepEqual(kinds, { 'public.credentials': 'mapping', 'public.reports': 'parent', 'public.layouts': 'query', 'public.dashboard_layouts': 'unknown' });
      const advice = (table: string) => view.gaps.tables.find((t) => t.table === table)!.findings.find((f) => f.kind === 'unmapped')!.advice;
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

    it('handles an empty plan', () => {
      const view = toPlanView({ scriptPath: 's.sql', scriptExists: true, statements: [], tables: [], gaps: { tables: [], findings: [], blocking: false } });
      assert.deepEqual(view.phases, []);
      assert.deepEqual(view.gaps, { tables: [], blocking: false });
    });
  });

  describe('parseWebviewMessage', () => {
    const valid: WebviewMessage[] = [
      { type: 'ready' }, { type: 'writeMappingStub' }, { type: 'run' }, { type: 'generateScript' }, { type: 'refresh' },
      { type: 'openScriptAt', line: 1 }, { type: 'openScriptAt', line: 182 }, { type: 'openScriptAt', line: MAX_SCRIPT_LINE },
    ];
    for (const message of valid) {
      it(`accepts ${JSON.stringify(message)}`, () => {
        const result = parseWebviewMessage(structuredClone(message));
        assert.ok(result.ok, result.ok ? '' : result.error);
        assert.deepEqual(result.message, message);
      });
    }

    const invalid: [string, unknown][] = [
      ['an unknown type', { type: 'executeCommand', command: 'workbench.action.terminal.new' }],
      ['a command id', { type: 'command', id: 'tenantMigration.run' }],
      ['a type in another case', { type: 'Run' }],
      ['no type', { line: 3 }],
      ['a non-string type', { type: 1 }],
      ['null', null],
      ['undefined', undefined],
      ['a string', 'run'],
      ['an array', [{ type: 'run' }]],
      ['extra junk on an action', { type: 'run', command: 'rm -rf /' }],
      ['extra junk on ready', { type: 'ready', version: 2 }],
      ['extra junk on openScriptAt', { type: 'openScriptAt', line: 3, path: '/etc/passwd' }],
      ['a line as a string', { type: 'openScriptAt', line: '12' }],
      ['a fractional line', { type: 'openScriptAt', line: 1.5 }],
      ['line 0', { type: 'openScriptAt', line: 0 }],
      ['a negative line', { type: 'openScriptAt', line: -4 }],
      ['a line past any script', { type: 'openScriptAt', line: MAX_SCRIPT_LINE + 1 }],
      ['NaN', { type: 'openScriptAt', line: Number.NaN }],
      ['Infinity', { type: 'openScriptAt', line: Number.POSITIVE_INFINITY }],
      ['no line', { type: 'openScriptAt' }],
      ['a host message echoed back', { type: 'busy', message: 'x' }],
    ];
    for (const [what, data] of invalid) {
      it(`rejects ${what}`, () => {
        const result = parseWebviewMessage(data);
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.error, /^rejected /);
      });
    }

    it('says what it rejected in a bounded line (for the log)', () => {
      const result = parseWebviewMessage({ type: 'x'.repeat(10_000), payload: 'y'.repeat(10_000) });
      assert.equal(result.ok, false);
      if (!result.ok) assert.ok(result.error.length < 400, result.error);
      const wrongType = parseWebviewMessage({ type: 'openScriptAt', line: '12' });
      if (!wrongType.ok) assert.match(wrongType.error, /openScriptAt.*line/);
    });

    it('validates host messages too', () => {
      assert.ok(parseHostMessage({ type: 'busy', message: 'Reading…' }).ok);
      assert.ok(parseHostMessage({ type: 'error', message: 'boom', next: 'do this' }).ok);
      assert.equal(parseHostMessage({ type: 'error', message: 3 }).ok, false);
      assert.equal(parseHostMessage({ type: 'plan', plan: {} }).ok, false);
    });
  });

  describe('planPreviewHtml', () => {
    const cspSource = 'https://*.vscode-cdn.net';
    const nonce = 'c2VjcmV0LW5vbmNlLXZhbHVlLTEy';
    const options = {
      cspSource, nonce,
      scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/main.js',
      styleUris: {
        codicons: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/codicons/codicon.css',
        view: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/plan-preview.css',
      },
    };
    const html = planPreviewHtml(options);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;|&apos;/g, "'") ?? '';

    it('has a CSP meta tag, first in the head', () => {
      assert.ok(csp.length > 0, 'no CSP meta tag');
      assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<link'), 'the CSP must come before any resource');
    });

    it('allows nothing by default and scripts only by nonce', () => {
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));
      assert.deepEqual(directives.get('default-src'), ["'none'"]);
      assert.deepEqual(directives.get('script-src'), [`'nonce-${nonce}'`]);
      assert.deepEqual(directives.get('style-src'), [cspSource]);
      assert.deepEqual(directives.get('font-src'), [cspSource]);
      assert.deepEqual(directives.get('img-src'), [cspSource, 'data:']);
    });

    it("has no 'unsafe-inline', no 'unsafe-eval' and no remote source", () => {
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes|strict-dynamic/);
      const sources = csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1));
      for (const source of sources) {
        assert.ok(source === cspSource || source === "'none'" || source === `'nonce-${nonce}'` || source === 'data:',
          `unexpected source ${source} in ${csp}`);
      }
      assert.equal(contentSecurityPolicy(cspSource, nonce), csp);
    });

    it('gives every <script> the nonce and a src (no inline script), and has no inline style', () => {
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.ok(scripts.length > 0);
      for (const [, attributes, body] of scripts) {
        assert.match(attributes!, new RegExp(`\\bnonce="${nonce}"`));
        assert.match(attributes!, /\bsrc="[^"]+"/);
        assert.equal(body!.trim(), '');
      }
      assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i);
    });

    it('loads codicons with the id vscode-elements looks for, and only local resources', () => {
      assert.match(html, /<link rel="stylesheet" id="vscode-codicon-stylesheet" href="[^"]+codicon\.css">/);
      for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(url!.startsWith('https://file+.vscode-resource.vscode-cdn.net/'), url);
    });

    it('escapes what it puts in attributes and refuses a weak nonce', () => {
      const hostile = planPreviewHtml({ ...options, scriptUri: 'x"><script>alert(1)</script>' });
      assert.equal([...hostile.matchAll(/<script\b/g)].length, 1);
      assert.throws(() => planPreviewHtml({ ...options, nonce: 'short' }));
      assert.throws(() => planPreviewHtml({ ...options, nonce: `${nonce}' 'unsafe-inline` }));
      assert.throws(() => planPreviewHtml({ ...options, cspSource: "* 'unsafe-inline'" }));
    });
  });

  describe('the ready handshake (PreviewChannel)', () => {
    const plan = (scriptPath: string): HostMessage => ({ type: 'plan', plan: { ...toPlanView(samplePlan()), scriptPath } });
    const busy: HostMessage = { type: 'busy', message: 'Reading the plan…' };
    const error: HostMessage = { type: 'error', message: 'boom', next: 'fix it' };
    const kinds = (messages: HostMessage[]) => messages.map((m) => (m.type === 'plan' ? `plan:${m.plan.scriptPath}` : m.type));
    it('sends nothing before ready, then the state: the last plan and what followed it', () => {
      const delivered: HostMessage[] = [];
      const channel = new PreviewChannel((m) => delivered.push(m));
      channel.post(busy);
      channel.post(plan('a'));
      channel.post(busy);
      channel.post(plan('b'));
      channel.post(error);
      assert.deepEqual(delivered, []);
      channel.onReady();
      assert.deepEqual(kinds(delivered), ['plan:b', 'error']);
    });
    it('sends at once while ready, and a plan clears the busy or error state', () => {
      const delivered: HostMessage[] = [];
      const channel = new PreviewChannel((m) => delivered.push(m));
      channel.post(busy);
      channel.onReady();
      channel.post(plan('a'));
      assert.deepEqual(kinds(delivered), ['busy', 'plan:a']);
      channel.onHidden();
      channel.onReady();
      assert.deepEqual(kinds(delivered), ['busy', 'plan:a', 'plan:a']);
    });
    it('holds messages while the webview is hidden and replays the state when it is back', () => {
      const delivered: HostMessage[] = [];
      const channel = new PreviewChannel((m) => delivered.push(m));
      channel.onReady();
      channel.post(plan('a'));
      channel.onHidden();
      channel.post(busy);
      assert.deepEqual(kinds(delivered), ['plan:a']);
      channel.onReady();
      assert.deepEqual(kinds(delivered), ['plan:a', 'plan:a', 'busy']);
    });
    it('sends nothing on ready when there is nothing yet', () => {
      const delivered: HostMessage[] = [];
      new PreviewChannel((m) => delivered.push(m)).onReady();
      assert.deepEqual(delivered, []);
    });
  });
});
