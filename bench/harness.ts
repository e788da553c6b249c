/**
 * A small benchmark harness: timing with warm-up, an aligned comparison table and a JSON
 * record of results with the environment they were measured in.
 *
 * It depends on nothing but Node so that every benchmark (eager, jit, webgpu) can share it
 * and report numbers the same way. Benchmarks are meant to run on tsc's output: a
 * transpiling loader injects helper calls that distort timings of microsecond-sized ops.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MeasureOptions {
  /** Untimed calls before sampling, so that V8 has optimized the code and caches are warm. */
  warmup?: number;
  /** Minimum number of timed calls. */
  runs?: number;
  /** Keep sampling until the timed calls add up to at least this long (bounded by maxRuns). */
  minTimeMs?: number;
  /** Upper bound on timed calls when minTimeMs asks for more. */
  maxRuns?: number;
}

/** Timing of one benchmarked function; every time is milliseconds per call of `fn`. */
export interface Measurement {
  name: string;
  median: number;
  min: number;
  p90: number;
  mean: number;
  runs: number;
  warmup: number;
}

const DEFAULTS: Required<MeasureOptions> = { warmup: 3, runs: 10, minTimeMs: 0, maxRuns: 10_000 };

/** Results are stored here so that the optimizing compiler cannot drop the calls as dead code. */
let sink: unknown;
/** @internal The last value a measured function returned. */
export function lastResult(): unknown { return sink; }

function percentile(sorted: readonly number[], p: number): number {
  // Nearest-rank: the smallest sample with at least p of the samples at or below it.
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

function summarize(name: string, samples: readonly number[], warmup: number): Measurement {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 === 1 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const mean = s.reduce((acc, x) => acc + x, 0) / n;
  return { name, median, min: s[0]!, p90: percentile(s, 0.9), mean, runs: n, warmup };
}

function resolveOptions(opts: MeasureOptions): Required<MeasureOptions> {
  const o = { ...DEFAULTS, ...opts };
  if (!(o.runs >= 1)) throw new RangeError(`measure: runs must be at least 1 (got ${o.runs})`);
  return o;
}

/**
 * Times `fn` with performance.now(): `warmup` untimed calls, then timed calls until both
 * `runs` calls and `minTimeMs` in total are reached. The median is the figure to report;
 * it is robust against the odd sample that a GC pause or another process lands on.
 */
export function measure(name: string, fn: () => unknown, opts: MeasureOptions = {}): Measurement {
  const o = resolveOptions(opts);
  for (let i = 0; i < o.warmup; i++) sink = fn();
  const samples: number[] = [];
  let total = 0;
  while (samples.length < o.runs || (total < o.minTimeMs && samples.length < o.maxRuns)) {
    const t0 = performance.now();
    sink = fn();
    const dt = performance.now() - t0;
    samples.push(dt);
    total += dt;
  }
  return summarize(name, samples, o.warmup);
}

/** measure() for functions that return a promise (GPU readbacks); each await is part of the time. */
export async function measureAsync(name: string, fn: () => Promise<unknown>, opts: MeasureOptions = {}): Promise<Measurement> {
  const o = resolveOptions(opts);
  for (let i = 0; i < o.warmup; i++) sink = await fn();
  const samples: number[] = [];
  let total = 0;
  while (samples.length < o.runs || (total < o.minTimeMs && samples.length < o.maxRuns)) {
    const t0 = performance.now();
    sink = await fn();
    const dt = performance.now() - t0;
    samples.push(dt);
    total += dt;
  }
  return summarize(name, samples, o.warmup);
}

// Tables.

/** One workload measured by several systems, in one unit where lower is better. */
export interface TableRow {
  workload: string;
  /** One value per system column, in `unit`; NaN prints as "n/a". */
  values: readonly number[];
  unit: string;
  /** Optional text shown after each value, e.g. a throughput. */
  notes?: readonly (string | undefined)[];
  /** Trailing columns, by name (see TableOptions.extraColumns). */
  extra?: Readonly<Record<string, string>>;
}

export interface TableOptions {
  /** Headers of the value columns, in the order of TableRow.values. */
  columns: readonly string[];
  /**
   * The ratio column: values[baseline] / values[subject], so above 1 means the subject
   * is that many times faster. Omit for no ratio column.
   */
  ratio?: { subject: number; baseline: number; header?: string };
  /** Headers of trailing columns, filled from TableRow.extra. */
  extraColumns?: readonly string[];
}

/** Formats a number with about four significant digits, without exponent notation. */
export function fmtNumber(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : 4;
  return x.toFixed(digits);
}

/** Lays out cells as an aligned text table: first column left-aligned, the rest right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(width[c]!) : cell.padStart(width[c]!))).join('  ').trimEnd();
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(header.map((_, c) => r[c] ?? '')))].join('\n');
}

/** Prints rows as an aligned table with a ratio column; returns the text too. */
export function table(rows: readonly TableRow[], opts: TableOptions): string {
  const extra = opts.extraColumns ?? [];
  const header = ['workload', ...opts.columns];
  if (opts.ratio) header.push(opts.ratio.header ?? `${opts.columns[opts.ratio.baseline]}/${opts.columns[opts.ratio.subject]}`);
  header.push(...extra);
  const cells = rows.map((r) => {
    const row = [r.workload];
    r.values.forEach((v, i) => {
      const note = r.notes?.[i];
      row.push(`${fmtNumber(v)} ${r.unit}${note ? ` (${note})` : ''}`);
    });
    if (opts.ratio) {
      const ratio = r.values[opts.ratio.baseline]! / r.values[opts.ratio.subject]!;
      row.push(Number.isFinite(ratio) ? `${fmtNumber(ratio)}x` : 'n/a');
    }
    for (const name of extra) row.push(r.extra?.[name] ?? '');
    return row;
  });
  const text = formatTable(header, cells);
  console.log(text);
  return text;
}

// Results on disk.

/** The repository root: the nearest folder above this file with a package.json (works from dist/ too). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Where a benchmark's results go: bench/results/<name>.json under the repository root. */
export function resultsPath(name: string): string {
  return join(repoRoot(), 'bench', 'results', `${name}.json`);
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined; // no git, or not a checkout (e.g. an unpacked tarball)
  }
}

export interface Environment {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the results were saved: a busy machine explains noisy numbers. */
  loadavg1: number;
  date: string;
  commit?: string;
  /** True when the working tree had uncommitted changes, so `commit` alone does not reproduce it. */
  dirty?: boolean;
}

export function environment(): Environment {
  const cpus = os.cpus();
  const env: Environment = {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg1: os.loadavg()[0]!,
    date: new Date().toISOString(),
  };
  const commit = git(['rev-parse', 'HEAD']);
  if (commit) {
    env.commit = commit;
    // --no-optional-locks: a status read must not take the index lock from a concurrent commit.
    const status = git(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no']);
    if (status !== undefined) env.dirty = status.length > 0;
  }
  return env;
}

/** Writes `{ environment, results }` as JSON to `path`, creating its folder; returns the path. */
export function saveJson(path: string, results: unknown): string {
  const full = resolve(path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, `${JSON.stringify({ environment: environment(), results }, null, 2)}\n`);
  return full;
}

// Side-by-side runs.

/** Combines rounds of one side: the median of per-round medians, the overall min and the worst p90. */
export function mergeRounds(ms: readonly Measurement[]): Measurement {
  const medians = ms.map((m) => m.median).sort((a, b) => a - b);
  const n = medians.length;
  const runs = ms.reduce((s, m) => s + m.runs, 0);
  return {
    name: ms[0]!.name,
    median: n % 2 === 1 ? medians[n >> 1]! : (medians[n / 2 - 1]! + medians[n / 2]!) / 2,
    min: Math.min(...ms.map((m) => m.min)),
    p90: Math.max(...ms.map((m) => m.p90)),
    mean: ms.reduce((s, m) => s + m.mean * m.runs, 0) / runs,
    runs,
    warmup: ms[0]!.warmup,
  };
}

/**
 * Times two sides in alternating rounds (a, b, a, b, …) so that drift on a busy machine
 * hits both alike; `runs` and `minTimeMs` are totals spread over the rounds, and only the
 * first round warms up.
 */
export function interleaved(name: string, sides: { a: [string, () => unknown]; b: [string, () => unknown] }, opts: MeasureOptions & { rounds?: number } = {}): { a: Measurement; b: Measurement } {
  const rounds = opts.rounds ?? 3;
  const runs = Math.max(1, Math.ceil((opts.runs ?? 10) / rounds));
  const minTimeMs = (opts.minTimeMs ?? 0) / rounds;
  const pooled = { a: [] as Measurement[], b: [] as Measurement[] };
  for (let r = 0; r < rounds; r++) {
    const per: MeasureOptions = { warmup: r === 0 ? (opts.warmup ?? 3) : 0, runs, minTimeMs };
    if (opts.maxRuns !== undefined) per.maxRuns = opts.maxRuns;
    pooled.a.push(measure(`${name} ${sides.a[0]}`, sides.a[1], per));
    pooled.b.push(measure(`${name} ${sides.b[0]}`, sides.b[1], per));
  }
  return { a: mergeRounds(pooled.a), b: mergeRounds(pooled.b) };
}

/** The largest absolute difference between two results of equal length; NaN anywhere gives NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`result lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d;
  }
  return m;
}

/** How far a result may be from its reference: |x - ref| <= atol + rtol * |ref|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Largest |x - ref| - rtol * |ref|: at most atol when x agrees with ref within atol + rtol*|ref|. */
export function excess(ref: ArrayLike<number>, x: ArrayLike<number>, rtol: number): number {
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(x[i]! - ref[i]!) - rtol * Math.abs(ref[i]!);
    if (!(e <= m)) m = e;
  }
  return m;
}

/**
 * Medians over interleaved rounds: each round times every side in turn, starting one further
 * along, so drift on a shared machine falls on every side alike.
 */
export function interleavedRounds(
  sides: Record<string, () => unknown>, rounds: number, runs: number, firstWarmup = 2,
): Record<string, Measurement> {
  const names = Object.keys(sides);
  const per: Record<string, Measurement[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      per[name]!.push(measure(name, sides[name]!, { warmup: r === 0 ? firstWarmup : 1, runs }));
    }
  }
  return Object.fromEntries(names.map((n) => [n, mergeRounds(per[n]!)]));
}

/**
 * What the bench file at `url` prints last (as JSON) when run again in a child process with
 * `env` added: the CPU engine is fixed per process, so engines are compared through children.
 */
export function childResult<T>(bench: string, url: string, env: Record<string, string>): T {
  const r = spawnSync(process.execPath, [fileURLToPath(url)], {
    env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 2 ** 24,
  });
  if (r.status !== 0) throw new Error(`${bench} bench: the child with ${JSON.stringify(env)} exited with ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

/**
 * Each CPU engine's results from `rounds` rounds of one child process per engine (the child
 * sees KILN_BENCH_CHILD=1), alternating the order (wasm, js, js, wasm, …) so that load on the
 * machine falls on both.
 */
export function engineRounds<T>(bench: string, url: string, rounds: number): Record<'wasm' | 'js', T[]> {
  const seen: Record<'wasm' | 'js', T[]> = { wasm: [], js: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['wasm', 'js'] as const) : (['js', 'wasm'] as const);
    for (const engine of order) seen[engine].push(childResult<T>(bench, url, { KILN_CPU: engine, KILN_BENCH_CHILD: '1' }));
  }
  return seen;
}
