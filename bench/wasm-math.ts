/**
 * kiln's Wasm float32 math (compiler/codegen/wasm/math.ts, four lanes a call) beside the
 * JavaScript engine's float32 helpers (compiler/scalar/f32-math.ts through the kernels'
 * helper object), each mapping 4M float32 in place of a tensor kernel (pow: 4M pairs, against
 * Math.fround of the JavaScript engine's powC), in one process with interleaved rounds:
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/wasm-math.js      (ROUNDS=n for more rounds)
 *
 * Both sides read and write Float32Arrays of the same inputs; the Wasm side's arrays live in
 * its memory. Each JavaScript loop is compiled on its own with `new Function`, as generated
 * kernels are, so every helper call site keeps its own type feedback. Before timing, the
 * two sides' results are compared: the functions that mirror the JavaScript helpers must
 * agree bit for bit (NaN aside), the others within 3 float32 steps.
 */
import { ModuleBuilder, type Code } from '../compiler/codegen/wasm/encoder.js';
import { WasmMath, wasmMathFns, type WasmMathBinaryFn, type WasmMathFn } from '../compiler/codegen/wasm/math.js';
import { jsHelpers } from '../compiler/codegen/js-helpers.js';
import { wasmApi } from '../runtime/wasm/api.js';
import { fmtNumber, formatTable, interleaved, resultsPath, saveJson } from './harness.js';

const N = 4 * 2 ** 20;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const PAGES = (3 * N * 4) / 65536;

/** Standard normal (Box-Muller on two uniforms from one: the bits of u split in halves). */
function normal(u: number): number {
  const hi = Math.floor(u * 65536) / 65536, lo = u * 65536 - Math.floor(u * 65536);
  return Math.sqrt(-2 * Math.log(1 - hi)) * Math.cos(2 * Math.PI * lo);
}

/** Inputs per function: the ranges its arguments mostly come from in a model. */
const inputs: { readonly [F in WasmMathFn]: readonly (readonly [string, (u: number) => number])[] } = {
  exp: [['U[-20,20]', (u) => -20 + 40 * u]],
  expm1: [['U[-5,5]', (u) => -5 + 10 * u]],
  log: [['2^U[-20,20]', (u) => 2 ** (-20 + 40 * u)]],
  log1p: [['U(-1,9)', (u) => -0.999 + 10 * u]],
  tanh: [['U[-6,6]', (u) => -6 + 12 * u]],
  sigmoid: [['U[-20,20]', (u) => -20 + 40 * u]],
  // gelu's argument x/sqrt(2) with x standard normal, as well as a uniform spread.
  erf: [['U[-3,3]', (u) => -3 + 6 * u], ['N(0,1)/sqrt(2)', (u) => normal(u) / Math.SQRT2]],
  erfc: [['U[-3,3]', (u) => -3 + 6 * u]],
  sin: [['U[-100,100]', (u) => -100 + 200 * u]],
  cos: [['U[-100,100]', (u) => -100 + 200 * u]],
  tan: [['U[-100,100]', (u) => -100 + 200 * u]],
};

/** Functions whose Wasm form follows the JavaScript helper's float64 steps (on these inputs). */
const mirrored: ReadonlySet<WasmMathFn> = new Set(['expm1', 'log', 'log1p', 'tanh', 'sin', 'cos']);

/** Deterministic inputs (mulberry32), so runs compare. */
function fill(out: Float32Array, seed: number, gen: (u: number) => number): void {
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = gen(((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
}

/** (src..., dst, bytes): dst = f(src...), four lanes a step, for `args` sources. */
function vectorLoop(code: Code, args: number, fn: number): void {
  const [dst, bytes] = [args, args + 1];
  const i = code.local('i32');
  code.open('block').open('loop');
  code.get(i).get(bytes).op('i32.ge_u').indexed('br_if', 1);
  code.get(dst).get(i).op('i32.add');
  for (let a = 0; a < args; a++) code.get(a).get(i).op('i32.add').simdMem('v128.load');
  code.indexed('call', fn).simdMem('v128.store');
  code.get(i).i32(16).op('i32.add').set(i);
  code.indexed('br', 0).end().end();
}

type Kernel = (src: Float32Array, dst: Float32Array, src2: Float32Array) => void;

/** A JavaScript map loop over the helper, compiled on its own (the name in the text keeps V8's caches apart). */
function jsKernel(fn: WasmMathFn | WasmMathBinaryFn): Kernel {
  const call = fn === 'pow' ? 'Math.fround(M.powC(src[i], src2[i]))' : `M.${fn}(src[i])`;
  return new Function('M', `return function map_${fn}(src, dst, src2) {
    for (let i = 0; i < src.length; i++) dst[i] = ${call};
  };`)(jsHelpers) as Kernel;
}

function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (v: number) => (v < 0 ? -0x80000000 - v : v);
  return Math.abs(key(i[0]!) - key(i[1]!));
}

const api = wasmApi!;
const module = new ModuleBuilder({ initial: PAGES, shared: false });
const math = new WasmMath(module);
const i32 = (n: number) => Array.from({ length: n }, () => 'i32' as const);
for (const fn of wasmMathFns) module.func(`v_${fn}`, i32(3), [], (c) => vectorLoop(c, 1, math.vector(fn)));
module.func('v_pow', i32(4), [], (c) => vectorLoop(c, 2, math.vectorBinary('pow')));
const bytes = module.encode();
const memory = new api.Memory({ initial: PAGES });
const exports = new api.Instance(new api.Module(bytes), { env: { memory } }).exports;
const wasmSrc = new Float32Array(memory.buffer, 0, N);
const wasmSrc2 = new Float32Array(memory.buffer, N * 4, N);
const wasmDst = new Float32Array(memory.buffer, 2 * N * 4, N);
const jsSrc = new Float32Array(N), jsSrc2 = new Float32Array(N), jsDst = new Float32Array(N);

const header = ['function', 'inputs', 'Wasm ms', 'JS ms', 'Wasm speedup', 'max ulps apart'];
const rows: string[][] = [];
const results: Record<string, unknown> = {};
/** pow's inputs: bases 2^U[-4,4], exponents U[-4,4]. */
const powInputs: readonly [string, (u: number) => number, (u: number) => number] = [
  '2^U[-4,4] ** U[-4,4]', (u) => 2 ** (-4 + 8 * u), (u) => -4 + 8 * u,
];

const benched: readonly (readonly [WasmMathFn | WasmMathBinaryFn, string, (u: number) => number])[] = [
  ...wasmMathFns.flatMap((fn) => inputs[fn].map(([range, gen]) => [fn, range, gen] as const)),
  ['pow', powInputs[0], powInputs[1]],
];
for (const [index, [fn, range, gen]] of benched.entries()) {
  fill(jsSrc, 42 + index, gen);
  fill(jsSrc2, 1042 + index, powInputs[2]);
  wasmSrc.set(jsSrc);
  wasmSrc2.set(jsSrc2);
  const run = exports[`v_${fn}`] as (...args: number[]) => void;
  const wasm = fn === 'pow' ? () => run(0, N * 4, 2 * N * 4, N * 4) : () => run(0, 2 * N * 4, N * 4);
  const js = jsKernel(fn);
  wasm();
  js(jsSrc, jsDst, jsSrc2);
  let apart = 0;
  for (let i = 0; i < N; i++) apart = Math.max(apart, ulps(wasmDst[i]!, jsDst[i]!));
  const exact = fn !== 'pow' && mirrored.has(fn);
  // exp, sigmoid and erf in float32 arithmetic are within 2 ulp of the true result, the helpers within 1.
  if (apart > (exact ? 0 : 3)) throw new Error(`${fn}: Wasm and JavaScript results are ${apart} ulps apart`);
  const t = interleaved(fn, { a: ['wasm', wasm], b: ['js', () => js(jsSrc, jsDst, jsSrc2)] }, {
    rounds: ROUNDS, runs: 2 * ROUNDS,
  });
  const speedup = t.b.median / t.a.median;
  rows.push([fn, range, fmtNumber(t.a.median), fmtNumber(t.b.median), `${speedup.toFixed(2)}x`, `${apart}`]);
  results[`${fn} ${range}`] = { inputs: range, elements: N, wasm: t.a, js: t.b, speedup, ulpsApart: apart };
}
console.log(formatTable(header, rows));
console.log(`saved ${saveJson(resultsPath('wasm-math'), results)}`);
