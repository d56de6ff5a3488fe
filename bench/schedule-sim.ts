/**
 * `npm run simulate-schedule`: the deterministic schedule simulator of issue 14. For each
 * operator's schedule (hourly cron, every 8 h, daily, twice a day by hand, the example Airflow
 * DAG, the hourly incremental Airflow DAG) it plays N days (default 30) of runs on a virtual
 * clock against the real engine and state store (a fresh PostgreSQL database per scenario,
 * DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) and the vendor simulator
 * (quota 3 per rolling 24 h), and prints one markdown row per schedule: exports used of the
 * maximum, steady-state worst lag per stream, mean lag, vendor quota refusals, requests with
 * little new data, failed tasks. `--json` prints every number as JSON instead.
 *
 * Options: --days N (30) · --only a,b (scenario names) · --seed N (1: every random choice, the
 * start-up jitter of each run, comes from a PRNG seeded with the seed and the scenario's name, so
 * the same seed gives the same output) · --start ISO (2026-11-01T00:00:00Z) · --warmup-days N (3:
 * lag after these days is "steady-state") · --little-data-hours H (1) · --request-latency-ms MS
 * (3000: the vendor receives each request a seeded 0 to MS ms after the engine sends it) · --json.
 * Progress (one line per simulated day) and the wall time of each scenario go to stderr.
 */
import { rng } from '../simulator/simulator-data.js';
import { scenarios } from './schedules.js';
import { allStreams, type HarnessOptions, hourMs, startHarness } from './sim-harness.js';
import type { ScenarioMetrics } from './sim-metrics.js';

export interface SimulateOptions extends Omit<HarnessOptions, 'start' | 'days' | 'label'> {
  readonly start?: Date;
  readonly days?: number;
  /** Seeds every random choice of the scenario: start-up jitter, request latency (default 1). */
  readonly seed?: number;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  readonly start: string;
  readonly metrics: ScenarioMetrics;
  /** Real time the scenario took (not part of the deterministic output). */
  readonly wallMs: number;
}

export const defaultStart = new Date('2026-11-01T00:00:00Z');

/** A 32-bit seed from the run's seed and the scenario's name, so `--only` gives the same numbers. */
function scenarioSeed(seed: number, name: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Runs one named scenario on a fresh database and simulator, and measures it. */
export async function simulateSchedule(name: string, options: SimulateOptions = {}): Promise<ScenarioResult> {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  const seed = options.seed ?? 1;
  const start = options.start ?? defaultStart;
  const t0 = performance.now();
  const h = await startHarness({
    ...scenario.harness,
    ...options,
    configPatch: { ...scenario.harness?.configPatch, ...options.configPatch },
    start,
    days: options.days ?? scenario.harness?.days ?? 30,
    label: name,
    latencySeed: scenarioSeed(seed, `${name}:latency`),
  });
  try {
    const tasks = await scenario.run(h, rng(scenarioSeed(seed, name)));
    const metrics = await h.finish(tasks);
    return { scenario: name, seed, start: start.toISOString(), metrics, wallMs: performance.now() - t0 };
  } finally {
    await h.close();
  }
}

const short = (stream: string) => stream.split('_')[1] ?? stream;

/** The markdown table: one row per scenario. */
export function markdownTable(results: readonly ScenarioResult[]): string {
  const streams = results[0]?.metrics.streams.map((s) => s.stream) ?? [...allStreams];
  const names = streams.map(short).join(' / ');
  const first = results[0]?.metrics;
  const lines = [
    `| schedule | exports used of max | steady-state worst lag (h) ${names} | mean lag (h) ${names} | ` +
      'quota 400s | little-new-data requests | failed tasks | notes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const m = r.metrics;
    const lag = m.streams.map((s) => `${s.steadyWorstLagH}${s.growing ? '↑' : ''}`).join(' / ');
    const mean = m.streams.map((s) => s.meanLagH).join(' / ');
    const failed = m.tasks.failedTasks ?? m.tasks.failedRuns ?? 0;
    const notes = [`exports ${m.streams.map((s) => s.exports).join('/')}`];
    if (m.tasks.unfinishedTasks) notes.push(`${m.tasks.unfinishedTasks} tasks still retrying at the end`);
    if (m.tasks.skippedTasks !== undefined) notes.push(`${m.tasks.skippedTasks} skipped (exit 75)`);
    if (m.tasks.deferredRuns !== undefined) notes.push(`${m.tasks.deferredRuns} of ${m.runs} runs exit 75`);
    for (const [stream, r] of Object.entries(m.refusedByStream))
      notes.push(`${stream} refused ${r.requests} time(s) on ${r.days} day(s)`);
    if (m.outsider.requested)
      notes.push(`someone else: ${m.outsider.accepted} accepted, ${m.outsider.refused} refused`);
    if (m.tasks.slotsRunsAllow !== undefined) notes.push(`the run times allow ${m.tasks.slotsRunsAllow}`);
    if (m.tasks.othersExportsAfter !== undefined)
      notes.push(
        `others ${m.tasks.othersExportsAfter} of ${m.tasks.slotsAfter} slots from the day after; the slot went to another stream in ${m.tasks.slotGivenOn} of the ${m.tasks.refusedRuns} runs refused`,
      );
    if (m.tasks.failingStreamSlots !== undefined)
      notes.push(
        `failing stream: ${m.tasks.failingStreamSlots} slots in 7 days, at most ${m.tasks.failingStreamMostInADay} a day`,
      );
    if (m.tasks.hoursToFirstExportAfterOutage !== undefined)
      notes.push(`first export ${m.tasks.hoursToFirstExportAfterOutage} h after the outage`);
    if (m.days > 60) notes.push(`longest wait for a slot ${m.sendDelayS.last10Days} s in the last 10 days`);
    lines.push(
      `| ${r.scenario} | ${m.exportsUsed} of ${m.exportsMax} | ${lag} | ${mean} | ${m.refusals} | ` +
        `${m.littleNewData} | ${failed} | ${notes.join('; ')} |`,
    );
  }
  if (first) {
    lines.push(
      '',
      `${first.days} days (unless the schedule says), seed ${results[0]!.seed}, from ${results[0]!.start}; steady-state = after the ` +
        `warm-up days; ↑ = lag still growing at the end; little new data = under ` +
        `${first.littleDataThresholdH} h beyond the watermark; exports per stream ${names}.`,
    );
  }
  return lines.join('\n');
}

function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [key, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) out.set(key, inline);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) out.set(key, argv[++i]!);
    else out.set(key, 'true');
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.has('help')) {
    process.stdout.write(
      'usage: npm run simulate-schedule -- [--days N] [--only a,b] [--seed N] [--start ISO] ' +
        '[--warmup-days N] [--little-data-hours H] [--request-latency-ms MS] [--json]\n' +
        `scenarios: ${Object.keys(scenarios).join(', ')}\n`,
    );
    return;
  }
  const num = (key: string, def: number) => {
    const v = Number(args.get(key) ?? def);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${key} must be a number`);
    return v;
  };
  const only = args.get('only')?.split(',').filter(Boolean) ?? Object.keys(scenarios);
  for (const n of only) if (!scenarios[n]) throw new Error(`unknown scenario ${n}`);
  const options: SimulateOptions = {
    ...(args.has('days') ? { days: num('days', 30) } : {}),
    seed: num('seed', 1),
    start: args.has('start') ? new Date(args.get('start')!) : defaultStart,
    ...(args.has('warmup-days') ? { warmupDays: num('warmup-days', 3) } : {}),
    littleDataMs: num('little-data-hours', 1) * hourMs,
    requestLatencyMs: num('request-latency-ms', 3000),
    progress: (line) => process.stderr.write(`${line}\n`),
  };
  if (Number.isNaN(options.start!.getTime())) throw new Error('--start must be an ISO date-time');
  const results: ScenarioResult[] = [];
  for (const name of only) {
    const r = await simulateSchedule(name, options);
    process.stderr.write(`${name}: done in ${(r.wallMs / 1000).toFixed(1)} s wall time\n`);
    results.push(r);
  }
  if (args.has('json')) {
    const scenariosOut = Object.fromEntries(results.map(({ wallMs: _w, ...r }) => [r.scenario, r]));
    process.stdout.write(
      `${JSON.stringify({ days: options.days ?? 'per schedule', seed: options.seed, scenarios: scenariosOut }, null, 2)}\n`,
    );
  } else process.stdout.write(`${markdownTable(results)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
