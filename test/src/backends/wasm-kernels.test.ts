/**
 * Tensors on the Wasm engine (the default): fused row kernels and chains run as
 * Wasm modules over the tensors' buffers in the Wasm memory; jit gives eager's bits (sums
 * fold four lanes at a time in a fixed order, both ways), within float32 rounding of the
 * same computation in float64.
 */
import { describe, expect, it } from 'vitest';
import { wasm } from '../../../compiler/backends.js';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import * as k from '../../../src/index.js';

function bits(t: k.Tensor): number[] {
  return Array.from(new Uint32Array(new Float32Array(t.data() as Float32Array).buffer));
}

const layerNormChain = (x: k.Tensor, w: k.Tensor, b: k.Tensor) => k.nn.layerNorm(x, [x.shape[1]!], w, b).mul(2).add(x);
const normalise = (x: k.Tensor) => x.sub(x.mean(1, true)).div(x.var(1, true).add(1e-5).sqrt()).maximum(x.mul(-0.5));

describe.skipIf(cpuEngine() !== 'wasm')('tensors on Wasm kernels', () => {
  it.each([
    ['layerNorm with weight and bias, then a residual', layerNormChain],
    ['a normalisation written out, with a maximum', normalise],
  ] as const)('%s: jit equals eager bit for bit, as Wasm modules, near float64', (_, fn) => {
    k.manualSeed(3);
    const x = k.randn([37, 29]), w = k.randn([29]), b = k.randn([29]);
    const f = (...xs: k.Tensor[]) => (fn as (...a: k.Tensor[]) => k.Tensor)(...xs);
    const reference = Array.from(f(x.to('float64'), w.to('float64'), b.to('float64')).data());
    const before = { ...wasm.compiled };
    const eager = f(x, w, b);
    const compiled = k.jit(f);
    const jitted = [compiled(x, w, b), compiled(x, w, b)];
    for (const t of jitted) expect(bits(t)).toEqual(bits(eager));
    const got = Array.from(eager.data());
    for (let i = 0; i < got.length; i++) {
      expect(Math.abs(got[i]! - reference[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(reference[i]!)));
    }
    expect(wasm.compiled.wasm - before.wasm, 'Wasm modules compiled').toBeGreaterThan(0);
    expect(wasm.compiled.js - before.js, 'JavaScript kernels compiled').toBe(0);
  });
});
