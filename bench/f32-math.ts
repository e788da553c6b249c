// Micro benchmark: kiln's scalar float32 math (compiler/scalar/f32-math.ts) vs the
// Math.* equivalent rounded with Math.fround, applied over a 1M-element Float32Array.
// Run: npx tsx bench/f32-math.ts
//
// Each kernel is built with `new Function`, the way generated code is, so every
// loop has its own call site and feedback (a shared loop would go megamorphic
// and stop V8 from inlining). Reports the median ns/element of several timed
// runs after warm-up; ours and Math runs are interleaved so drift hits both.

import { f32Math } from '../compiler/scalar/f32-math.js';

type Kernel = (src: Float32Array, dst: Float32Array) => void;
type Unary = (x: number) => number;

const N = 1 << 20;
const WARMUP = 8;
const RUNS = 15;

// The helper's name goes into the source: V8 caches `new Function` by source
// text, so identical sources would share one feedback vector (and one
// megamorphic call site) across all helpers.
function helperKernel(name: string, f: Unary): Kernel {
  return new Function(
    name,
    `return function kernel(src, dst) { const n = src.length; for (let i = 0; i < n; i++) dst[i] = ${name}(src[i]); };`,
  )(f) as Kernel;
}

function exprKernel(expr: string): Kernel {
  return new Function(
    `return function kernel(src, dst) { const n = src.length; for (let i = 0; i < n; i++) { const x = src[i]; dst[i] = ${expr}; } };`,
  )() as Kernel;
}

/** Deterministic inputs so runs are comparable (mulberry32). */
function inputs(seed: number, gen: (u: number) => number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = gen(((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Row {
  name: string;
  range: string;
  ours: Unary;
  baseline: string;
  baselineLabel: string;
  gen: (u: number) => number;
}

const rows: Row[] = [
  { name: 'exp', range: 'U[-20,20]', ours: f32Math.exp, baseline: 'Math.fround(Math.exp(x))', baselineLabel: 'Math.exp', gen: (u) => -20 + 40 * u },
  { name: 'expm1', range: 'U[-5,5]', ours: f32Math.expm1, baseline: 'Math.fround(Math.expm1(x))', baselineLabel: 'Math.expm1', gen: (u) => -5 + 10 * u },
  { name: 'log', range: '2^U[-20,20]', ours: f32Math.log, baseline: 'Math.fround(Math.log(x))', baselineLabel: 'Math.log', gen: (u) => 2 ** (-20 + 40 * u) },
  { name: 'log1p', range: 'U(-1,9)', ours: f32Math.log1p, baseline: 'Math.fround(Math.log1p(x))', baselineLabel: 'Math.log1p', gen: (u) => -0.999 + 10 * u },
  { name: 'tanh', range: 'U[-6,6]', ours: f32Math.tanh, baseline: 'Math.fround(Math.tanh(x))', baselineLabel: 'Math.tanh', gen: (u) => -6 + 12 * u },
  { name: 'sigmoid', range: 'U[-20,20]', ours: f32Math.sigmoid, baseline: 'Math.fround(1 / (1 + Math.exp(-x)))', baselineLabel: '1/(1+Math.exp(-x))', gen: (u) => -20 + 40 * u },
  { name: 'sin', range: 'U[-100,100]', ours: f32Math.sin, baseline: 'Math.fround(Math.sin(x))', baselineLabel: 'Math.sin', gen: (u) => -100 + 200 * u },
  { name: 'cos', range: 'U[-100,100]', ours: f32Math.cos, baseline: 'Math.fround(Math.cos(x))', baselineLabel: 'Math.cos', gen: (u) => -100 + 200 * u },
  // JS has no Math.erf; the baseline is the common Abramowitz-Stegun 7.1.26 one-liner
  // (abs error 1.5e-7, i.e. NOT float32-accurate), shown only for scale. U[-3,3] is the
  // range gelu's erf(x/sqrt 2) sees; U[-5,5] adds a fifth of arguments that round to +-1.
  ...[3, 5].map((r) => ({
    name: 'erf',
    range: `U[-${r},${r}]`,
    ours: f32Math.erf,
    baseline:
      'Math.fround((() => { const a = Math.abs(x), t = 1 / (1 + 0.3275911 * a); const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-a * a); return x < 0 ? -y : y; })())',
    baselineLabel: 'A&S 7.1.26 (inexact)',
    gen: (u: number) => -r + 2 * r * u,
  })),
];

function time(k: Kernel, src: Float32Array, dst: Float32Array): number {
  const t0 = performance.now();
  k(src, dst);
  return ((performance.now() - t0) * 1e6) / N;
}

const table: string[][] = [['function', 'inputs', 'kiln ns/el', 'baseline', 'baseline ns/el', 'speedup']];
for (const [i, row] of rows.entries()) {
  const src = inputs(42 + i, row.gen);
  const dst = new Float32Array(N);
  const ours = helperKernel(row.name, row.ours);
  const base = exprKernel(row.baseline);
  for (let w = 0; w < WARMUP; w++) {
    ours(src, dst);
    base(src, dst);
  }
  const tOurs: number[] = [];
  const tBase: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    tOurs.push(time(ours, src, dst));
    tBase.push(time(base, src, dst));
  }
  const a = median(tOurs);
  const b = median(tBase);
  table.push([row.name, row.range, a.toFixed(2), row.baselineLabel, b.toFixed(2), `${(b / a).toFixed(2)}x`]);
}

const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
console.log(`node ${process.version}, ${N} float32 elements, median of ${RUNS} runs after ${WARMUP} warm-up runs`);
console.log(line(table[0]!));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of table.slice(1)) console.log(line(r));
