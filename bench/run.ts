// npm run bench — issue 5: the engine's migration against a naive bulk script on one dataset, each on a fresh copy,
// with and without a concurrent writer; the preview time; the bundle sizes. Writes .bench/results.md (BENCHMARKS.md keeps the runs that show where things stand).
// Usage: npm run bench -- [--scale 0.1] [--pg 15|17] [--scenarios naive,engine:run,engine,naive+writer,engine+writer,idle+writer]
//        [--repeat N] [--idle-seconds S] [--rate 50] [--batch-size N] [--lock-timeout MS] [--script file.sql] [--engine-entry migrate|run|script]
//        [--growth 1,2,3,4,5] [--preview-timeout S] [--before-script-timeout S] [--pg-setting name=value]...
//        [--database-url URL] [--keep] [--no-preview] [--no-bundles] [--no-write] [--out FILE] [--label TEXT]
//        [--activation-runs N] [--no-activation] [--no-partitions] [--partition-rounds 2]
// Also: npm run bench -- --only activation [--activation-runs 10]: the extension's budgets alone (issue 5 item 4:
// activation in the real VS Code, bundle sizes; no database; its own block in .bench/results.md).
// Also: npm run bench -- --only sql-editor [--statements 5000] [--rounds 5] [--edits 45] [--no-write]: the SQL editor alone (issue 4).
// Also: npm run bench -- --only lint [--statements 5000] [--rounds 5]: the migration lint beside squawk's binary (issue 16).
import fs from 'node:fs';
import path from 'node:path';
import { startEmbeddedServer } from '../test/support/embedded-server';
import { measureActivation, type ActivationResult } from './activation';
import { measureBundles } from './bundles';
import { admin, buildTemplate, copyOf, dropDatabase, scaledSize, type Server } from './dataset';
import { describeHost, describeMachine } from './machine';
import { timePreview } from './preview';
import { renderRun, writeBlock, type RunResults } from './report';
import { renderActivation } from './report-activation';
import { renderGrowth, type GrowthPoint } from './report-growth';
import { runScenario, type Kind, type ScenarioResult } from './scenario';
import { parseSqlEditorArgs, runSqlEditorBench } from './sql-editor';
import { runLintBench } from './lint';
import { PARTITION_COUNT, PARTITION_ROWS, benchPartitions } from './partitions';
import { WORK, engineFor, optionsLine, parseArgs, scenarioOf, variantScript, type Options } from './options';

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function openServer(o: Options): Promise<Server> {
  if (o.databaseUrl) {
    const base = new URL(o.databaseUrl);
    return {
      adminUrl: o.databaseUrl,
      urlFor: (db) => {
        const u = new URL(base.toString());
        u.pathname = `/${db}`;
        return u.toString();
      },
      stop: async () => {},
    };
  }
  log(
    `starting an embedded PostgreSQL ${o.pg}${Object.keys(o.settings).length ? ` with ${JSON.stringify(o.settings)}` : ''}`,
  );
  return startEmbeddedServer(o.pg, () => {}, o.settings);
}

/** The extension's budgets (issue 5 item 4): activation in the real VS Code, N launches. */
async function activation(runs: number): Promise<ActivationResult> {
  log(`activation: ${runs} launches of the real VS Code (code-server + Chromium)…`);
  const result = await measureActivation({ runs, log });
  log(
    `activation: median ${result.medianMs ?? '—'} ms, worst ${result.worstMs ?? '—'} ms (load ${result.load.map((l) => l.toFixed(1)).join(' → ')})`,
  );
  return result;
}

function writeActivation(o: Options, result: ActivationResult, bundles: RunResults['bundles']): void {
  const options = `npm run bench -- --only activation --activation-runs ${result.runs.length + result.failures.length}${o.bundles ? '' : ' --no-bundles'}`;
  const markdown = renderActivation(result, describeHost('src/extension'), options, bundles);
  console.log(`\n${markdown}`);
  fs.writeFileSync(path.join(WORK, 'activation.json'), JSON.stringify(result, null, 1));
  if (o.write) {
    writeBlock(o.out, 'bench:activation', markdown);
    log(`written to ${path.relative(process.cwd(), o.out)} (raw results in .bench/activation.json)`);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--only' && argv[1] === 'sql-editor') {
    // Issue 4: the SQL editor's CodeLens and lint for a 5,000-statement file (no database; its own block in .bench/results.md).
    await runSqlEditorBench(parseSqlEditorArgs(argv.slice(2), path.join(WORK, 'results.md')));
    return;
  }
  if (argv[0] === '--only' && argv[1] === 'lint') {
    await runLintBench(argv.slice(2));
    return;
  }
  const o = parseArgs(argv);
  if (o.only === 'activation') {
    fs.mkdirSync(WORK, { recursive: true });
    const bundles = o.bundles ? await measureBundles() : undefined;
    writeActivation(o, await activation(o.activationRuns || 10), bundles);
    return;
  }
  for (const sc of o.scenarios) if (sc.variant) variantScript(sc.variant);
  fs.mkdirSync(WORK, { recursive: true });
  const server = await openServer(o);
  try {
    const machine = await admin(server, (c) => describeMachine(c));
    log(`${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB; ${machine.postgres}`);
    if (o.growth) {
      await growth(o, server, machine);
      return;
    }
    const size = scaledSize(o.scale);
    log(
      `dataset: ${size.credentials} credentials, ${size.reports} reports, ${size.layouts} layouts — building the template…`,
    );
    const template = await buildTemplate(server, size);
    log(
      `template ${template.name}: ${(template.bytes / 1048576).toFixed(0)} MB, ${template.reused ? 'reused' : `built in ${(template.buildMs / 1000).toFixed(1)} s`}`,
    );

    let preview;
    if (o.preview) {
      const url = await copyOf(server, template, 'bench_preview');
      preview = await timePreview(url, path.join(WORK, 'bench_preview'), o.previewTimeoutMs);
      await dropDatabase(server, 'bench_preview');
      log(
        `preview: ${preview.timedOut ?? `first answer ${(preview.firstMs / 1000).toFixed(2)} s, exact ${(preview.totalMs / 1000).toFixed(2)} s`}`,
      );
    }
    const scenarios: ScenarioResult[] = [];
    const partial = path.join(WORK, 'results-partial.json');
    const list = Array.from({ length: o.repeat }, () => o.scenarios).flat();
    const keyOf = (x: { kind: Kind; writer: boolean; variant?: string }) => `${x.kind}:${x.variant ?? ''}:${x.writer}`;
    const seen = new Map<string, number>();
    const rounds = list.map((x) => {
      const n = (seen.get(keyOf(x)) ?? 0) + 1;
      seen.set(keyOf(x), n);
      return n;
    });
    for (const [i, sc] of list.entries()) {
      const round = list.filter((x) => keyOf(x) === keyOf(sc)).length > 1 ? rounds[i] : undefined;
      const engine = engineFor(o, sc.variant);
      scenarios.push(
        await runScenario(server, template, {
          ...sc,
          round,
          idleSeconds: o.idleSeconds,
          rate: o.rate,
          engine,
          workFolder: WORK,
          keep: o.keep,
          log,
        }),
      );
      fs.writeFileSync(
        partial,
        JSON.stringify({ template, preview, scenarios: scenarios.map((x) => ({ ...x, script: undefined })) }, null, 1),
      );
    }
    const partitions = o.partitions
      ? await benchPartitions(server, {
          rows: Math.max(PARTITION_COUNT * 1000, Math.round(PARTITION_ROWS * o.scale)),
          partitions: PARTITION_COUNT,
          rounds: o.partitionRounds,
          log,
        })
      : undefined;
    const bundles = o.bundles ? await measureBundles() : undefined;
    const activationResult = o.activationRuns ? await activation(o.activationRuns) : undefined;
    if (activationResult) writeActivation(o, activationResult, bundles);
    const label = `${o.label ? `${o.label}: ` : ''}Scale ${o.scale}, PostgreSQL ${o.pg}${o.entry === 'script' ? ", engine runner without migrate()'s refusal checks" : ''}${o.batchSize ? `, batch ${o.batchSize}` : ''}${o.script ? `, script ${path.basename(o.script)}` : ''}`;
    const results: RunResults = {
      label,
      scale: o.scale,
      machine,
      template,
      scenarios,
      preview,
      partitions,
      bundles,
      activation: activationResult,
      options: optionsLine(o, o.scale),
    };
    const markdown = renderRun(results);
    console.log(`\n${markdown}`);
    const stamp = machine.date.replace(/[:]/g, '-');
    fs.writeFileSync(
      path.join(WORK, `results-${stamp}.json`),
      JSON.stringify({ ...results, scenarios: scenarios.map((x) => ({ ...x, script: undefined })) }, null, 1),
    );
    const engineScript = scenarios.find((x) => x.script)?.script;
    if (engineScript) fs.writeFileSync(path.join(WORK, `engine-script-scale-${o.scale}.sql`), engineScript);
    if (o.write) {
      writeBlock(o.out, `bench:run ${label}`, markdown);
      log(`written to ${path.relative(process.cwd(), o.out)} (raw results in .bench/results-${stamp}.json)`);
    }
    await runSqlEditorBench(parseSqlEditorArgs(o.write ? [] : ['--no-write'], o.out));
  } finally {
    if (!o.keep) await server.stop();
    else log(`kept the server: ${server.adminUrl.replace(/:[^:@/]+@/, ':***@')}`);
  }
}

async function growth(o: Options, server: Server, machine: Awaited<ReturnType<typeof describeMachine>>): Promise<void> {
  const points: GrowthPoint[] = [];
  const list = o.scenariosGiven
    ? o.scenarios.filter((x) => !x.writer && x.kind !== 'idle')
    : [scenarioOf('naive'), scenarioOf('engine')];
  for (const scale of o.growth!) {
    const size = scaledSize(scale);
    log(`growth: ${size.credentials} credentials — building the template…`);
    const template = await buildTemplate(server, size);
    log(
      `template ${template.name}: ${(template.bytes / 1048576).toFixed(0)} MB, ${template.reused ? 'reused' : `built in ${(template.buildMs / 1000).toFixed(0)} s`}`,
    );
    const runs: GrowthPoint['runs'] = [];
    for (const sc of list) {
      const r = await runScenario(server, template, {
        ...sc,
        rate: o.rate,
        engine: engineFor(o, sc.variant),
        workFolder: WORK,
        keep: false,
        log,
      });
      runs.push({
        name: r.name,
        ok: r.ok,
        wallMs: r.wallMs,
        cpuMs: r.backendCpuMs,
        backfillMs: r.phases.find((p) => p.phase === 'backfill')?.ms,
        rssPeakMb: r.memory.peakMb,
        load: r.load,
      });
    }
    points.push({ scale, template, runs });
    // On a server of one's own the templates stay for the next run; the embedded server goes away anyway.
    if (!o.keep && !o.databaseUrl) await dropDatabase(server, template.name);
    const markdown = renderGrowth(
      points,
      machine,
      `npm run bench -- --growth ${o.growth!.join(',')} --pg ${o.pg}${o.entry !== 'migrate' ? ` --engine-entry ${o.entry}` : ''}${o.scenariosGiven ? ` --scenarios ${list.map((x) => `${x.kind}${x.variant ? `:${x.variant}` : ''}`).join(',')}` : ''}${o.batchSize ? ` --batch-size ${o.batchSize}` : ''}`,
    );
    console.log(`\n${markdown}`);
    fs.writeFileSync(path.join(WORK, 'growth.json'), JSON.stringify(points, null, 1));
    if (o.write) writeBlock(o.out, `bench:growth PostgreSQL ${o.pg}${o.label ? ` ${o.label}` : ''}`, markdown);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
