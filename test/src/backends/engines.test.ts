/**
 * The two CPU engines side by side: a child process on the other engine (KILN_CPU) draws the
 * same random numbers and runs the op table's rows on the same inputs (the run seed travels
 * with it). Random numbers match bit for bit; every row matches within the few float32 steps
 * the Wasm math library documents against the JavaScript engine's (exp, erf, erfc, tan, pow,
 * and sin and cos from 2^20 on, each within one step), carried on by the ops around them,
 * and in contractions, which the Wasm gemm sums in float32 and the JavaScript engine in
 * float64 (measured: at most 1.9e-6 apart on outputs of magnitude up to 4).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { runSeed } from '../random-inputs.js';
import { snapshot, type Snapshot, type Values } from './fixtures/engine-snapshot.js';

const child = fileURLToPath(new URL('./fixtures/engine-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** One float32 step relative to the value (the largest spacing of float32 numbers around it). */
const ULP = 2 ** -23;

/**
 * Float steps any row may drift: the Wasm math library's functions (exp, sigmoid, erf, erfc, tan,
 * pow, large sin and cos) round within two float32 steps of the JavaScript engine's, and they sit
 * inside many composite rows (crossEntropy, softmax, in-place pow_, gelu…), whose ops carry a
 * step on — which rows show one depends on the run's random inputs, so every row gets the
 * same few steps. Integer and bool outputs stay exact (a step of a small integer is far below 1).
 */
const STEPS = 4;

/** Rows built on matmul: float32 sums against float64 sums, so a difference relative to the output's scale. */
const CONTRACTION_ROWS = /^(matmul|linear|conv|einsum|scaledDotProductAttention)/;

const here = cpuEngine();
const other = here === 'wasm' ? 'js' : wasmFeatures().simd ? 'wasm' : undefined;

function otherSnapshot(): Snapshot {
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    cwd: root, env: { ...process.env, KILN_CPU: other, KILN_TEST_SEED: String(runSeed) }, encoding: 'utf8',
    timeout: 240_000, maxBuffer: 256 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`child exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Snapshot;
}

/** Checks `got` against `want` within `rel` of each element plus `scaled` of the largest one. */
function expectNear(got: Values, want: Values, rel: number, scaled: number, what: string): void {
  expect(got.dtype, what).toBe(want.dtype);
  expect(got.values.length, what).toBe(want.values.length);
  const largest = Math.max(0, ...want.values.map((w) => (typeof w === 'number' ? Math.abs(w) : 0)));
  const tol = (w: number) => rel * Math.abs(w) + scaled * largest;
  for (let i = 0; i < want.values.length; i++) {
    const g = got.values[i]!, w = want.values[i]!;
    const ok = typeof w === 'string' || typeof g === 'string' ? g === w : Math.abs(g - w) <= tol(w);
    if (!ok) throw new Error(`${what}: element ${i}: ${here} ${g}, ${other} ${w} (tolerance ${tol(Number(w))})`);
  }
}

describe.skipIf(other === undefined)(`the ${here} engine against the ${other} engine (child process)`, () => {
  let theirs: Snapshot | undefined;
  const mine = () => snapshot(here);
  const load = () => (theirs ??= otherSnapshot());

  it('the same seed gives the same random numbers, eagerly and under jit', () => {
    const { engine, random } = load();
    expect(engine).toBe(other);
    expect(mine().random).toEqual(random);
  }, 300_000);

  it('every op table row gives the same values within the math library\'s documented steps and float32 sums', () => {
    const { rows } = load();
    const ours = mine().rows;
    expect(Object.keys(ours)).toEqual(Object.keys(rows));
    for (const [name, outs] of Object.entries(ours)) {
      // A step of the output's largest element too, for elements that cancel down near zero.
      const scaled = CONTRACTION_ROWS.test(name) ? 1e-5 : STEPS * ULP;
      outs.forEach((o, i) => expectNear(o, rows[name]![i]!, STEPS * ULP, scaled, `${name}, output ${i}`));
    }
  }, 300_000);
});
