/**
 * One op, one rounding, whatever kernel computes it: on the Wasm engine an elementwise math
 * function fused into a float32 matmul's epilogue (a JavaScript map) or into a kernel the
 * Wasm renderer has no code for (a JavaScript kernel over the memory) gives the bits of the
 * Wasm map that computes it alone — so jit, which fuses, equals eager, which does not. The
 * inputs are chosen where the Wasm math library and the JavaScript engine's functions round
 * differently, so each check fails if the JavaScript kernels used the JavaScript functions.
 */
import { describe, expect, it } from 'vitest';
import { jsHelpers } from '../../../compiler/codegen/js-helpers.js';
import { wasmJsHelpers } from '../../../compiler/codegen/wasm/js-math.js';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { jit, tensor, type Tensor } from '../../../src/index.js';
import { expectSameTensor } from '../jit/compare.js';

type Unary = 'exp' | 'erf' | 'erfc' | 'tan' | 'sigmoid';

/** Float32 inputs in [lo, hi) where the Wasm and JavaScript forms of `fn` differ (up to `count` of them). */
function differing(fn: Unary, lo: number, hi: number, count: number): Float32Array {
  const wasm = wasmJsHelpers()[fn], js = jsHelpers[fn];
  const out: number[] = [];
  for (let i = 0; i < 400_000 && out.length < count; i++) {
    const x = Math.fround(lo + ((hi - lo) * i) / 400_000);
    if (!Object.is(wasm(x), js(x))) out.push(x);
  }
  return Float32Array.from(out);
}

const CASES: readonly [Unary, number, number][] = [
  ['exp', -20, 20], ['erf', -3, 3], ['erfc', -2, 4], ['tan', -1.5, 1.5], ['sigmoid', -20, 20],
];

describe.skipIf(cpuEngine() !== 'wasm')('the Wasm engine\'s JavaScript kernels round math as its Wasm kernels do', () => {
  it.each(CASES)('%s: the inputs where the two engines differ exist, and the helpers give the Wasm map\'s bits', (fn, lo, hi) => {
    const xs = differing(fn, lo, hi, 64);
    expect(xs.length).toBeGreaterThan(0);
    const alone = tensor(xs)[fn]().data();
    const helper = wasmJsHelpers()[fn];
    xs.forEach((x, i) => expect(Object.is(Math.fround(helper(x)), alone[i]), `${fn}(${x})`).toBe(true));
  });

  it.each(CASES)('%s fused into a matmul\'s epilogue under jit equals eager', (fn, lo, hi) => {
    const xs = differing(fn, lo, hi, 64);
    const n = xs.length;
    // x · I is x exactly: the epilogue sees the inputs that round differently.
    const eye = tensor(Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), { shape: [n, n] });
    const body = (x: Tensor, w: Tensor) => x.matmul(w)[fn]();
    const f = jit(body);
    const x = tensor(xs, { shape: [1, n] });
    for (let call = 0; call < 3; call++) expectSameTensor(f(x, eye), body(x, eye), `call ${call + 1}`);
    expect(f.stats.replays).toBeGreaterThan(0);
  });

  it('exp beside an integer cast (a kernel the Wasm renderer leaves to JavaScript) under jit equals eager', () => {
    const xs = differing('exp', -20, 20, 64);
    const body = (x: Tensor) => {
      const e = x.exp();
      return [x.div(e), e.cast('int32')];
    };
    const f = jit(body);
    const x = tensor(xs);
    for (let call = 0; call < 3; call++) {
      const [got, want] = [f(x), body(x)];
      expectSameTensor(got[0], want[0]!, `call ${call + 1}, x / exp(x)`);
      expectSameTensor(got[1], want[1]!, `call ${call + 1}, int32(exp(x))`);
    }
  });
});
