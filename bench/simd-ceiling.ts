/** The SIMD128 ceiling kiln's matmul benchmarks report their gemm against. */
import { ModuleBuilder } from '../compiler/codegen/wasm/encoder.js';
import { wasmApi } from '../runtime/wasm/api.js';

/**
 * GFLOP/s of the micro-kernel's arithmetic without its loads: per iteration, 8 independent
 * accumulators each add a product of one of 4 splat-like vectors and one of 2 row-like
 * vectors, unrolled 4 times, 256 flops. Every product is distinct, so V8 cannot merge them
 * (a loop of acc += x·y with x, y shared by the accumulators measured ~10% above this: V8
 * computed each product once and timed the adds alone).
 */
export function simdCeiling(fma: boolean, timeMs: (fn: () => void) => number): number {
  const module = new ModuleBuilder({ initial: 1, shared: false });
  module.func('peak', ['i32', 'i32'], [], (c) => {
    const [iters, out] = [0, 1];
    const acc = Array.from({ length: 8 }, () => c.local('v128'));
    const s = Array.from({ length: 4 }, (_, i) => {
      const x = c.local('v128');
      c.f32x4([1e-7 * i, 2e-7, 3e-7, 4e-7]).set(x);
      return x;
    });
    const r = [c.local('v128'), c.local('v128')];
    c.f32x4([1, 0.5, 0.25, 2]).set(r[0]!).f32x4([0.75, 1.5, 3, 1]).set(r[1]!);
    for (const a of acc) c.f32x4([0, 0, 0, 0]).set(a);
    c.open('block').open('loop');
    c.get(iters).op('i32.eqz').indexed('br_if', 1);
    for (let u = 0; u < 4; u++) {
      acc.forEach((a, i) => {
        const [x, y] = [s[i >> 1]!, r[i & 1]!];
        if (fma) c.get(x).get(y).get(a).simd('f32x4.relaxed_madd').set(a);
        else c.get(a).get(x).get(y).simd('f32x4.mul').simd('f32x4.add').set(a);
      });
    }
    c.get(iters).i32(1).op('i32.sub').set(iters);
    c.indexed('br', 0).end().end();
    for (const a of acc) c.get(out).get(a).simdMem('v128.store');
  });
  const memory = new wasmApi!.Memory({ initial: 1 });
  const instance = new wasmApi!.Instance(new wasmApi!.Module(module.encode()), { env: { memory } });
  const peak = instance.exports.peak as (n: number, p: number) => void;
  const iters = 4_000_000;
  let best = Infinity;
  for (let r = 0; r < 7; r++) best = Math.min(best, timeMs(() => peak(iters, 0)));
  return (iters * 256) / best / 1e6;
}

