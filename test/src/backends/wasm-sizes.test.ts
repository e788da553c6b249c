/**
 * Size-generic Wasm modules: specs that differ only in sizes (a batch of 3, 5, 7…) form a
 * family; its first member compiles a module with constant sizes, the second a module that
 * takes the sizes that differed as parameters, and every later member runs that module.
 * Each member gives the JavaScript engine's bits, tails (sizes not a multiple of four) included.
 */
import { describe, expect, it } from 'vitest';
import { cpu } from '../../../compiler/backends.js';
import { renderWasm } from '../../../compiler/codegen/wasm/render.js';
import type { KernelSpec } from '../../../compiler/kernel.js';
import { lowerElementwise, lowerReduce, type Layout, type Lowered } from '../../../compiler/lower.js';
import type { Backend } from '../../../runtime/backend.js';
import type { TypedArray } from '../../../runtime/dtype.js';
import { WasmBackend, type WasmProgram } from '../../../runtime/wasm/backend.js';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { wasmModuleCount } from '../../../runtime/wasm/modules.js';
import { Tensor, jit, randn } from '../../../src/index.js';
import { expectSameTensor } from '../jit/compare.js';

const programs: WasmProgram[] = [];
const wasm = new WasmBackend<KernelSpec>((spec, target) => {
  const program = renderWasm(spec, target);
  programs.push(program);
  return program;
});

const contiguous = (shape: number[]): Layout => ({
  dtype: 'float32', shape, strides: shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1)), offset: 0,
});

const size = (l: Layout) => l.shape.reduce((p, n) => p * n, 1);

/** Deterministic float32 values with specials among them. */
function values(n: number, salt: number): TypedArray {
  const special = [NaN, -0, Infinity, -Infinity, 1.5, -2.5];
  return Float32Array.from({ length: n }, (_, i) => {
    const r = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
    return i % 11 === 5 ? special[i % special.length]! : (r - Math.trunc(r)) * 8 - 4;
  });
}

function run(backend: Backend<any, any, KernelSpec>, lowered: Lowered, inputs: readonly Layout[], out: Layout): TypedArray {
  const outBuf = backend.alloc('float32', size(out));
  const bufs = inputs.map((l, i) => {
    const b = backend.alloc('float32', size(l));
    backend.write(b, 'float32', values(size(l), i + 1));
    return b;
  });
  const args = [{ data: outBuf, offset: 0 }, ...bufs.map((data) => ({ data, offset: 0 }))];
  backend.run([{ kernel: backend.compile(lowered.key, lowered.build), args, scalars: [] }]);
  const result = backend.readSync!(outBuf, 'float32', 0, size(out));
  for (const b of [outBuf, ...bufs]) backend.free(b);
  return result;
}

/**
 * Runs each member on the Wasm backend (as a Wasm module) and the JavaScript engine; returns
 * the modules each member compiled.
 */
function family(members: readonly [Lowered, Layout[], Layout][]): number[] {
  return members.map(([lowered, inputs, out]) => {
    const before = wasmModuleCount();
    programs.length = 0;
    const got = run(wasm, lowered, inputs, out);
    const compiled = wasmModuleCount() - before;
    expect(programs.map((p) => p.kind), lowered.key).toEqual(['wasm']);
    const want = run(cpu, lowered, inputs, out);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i])) throw new Error(`${lowered.key}: element ${i}: wasm ${got[i]}, js ${want[i]}`);
    }
    return compiled;
  });
}

const BATCHES = [3, 5, 7, 9, 13];

describe.skipIf(!wasmFeatures().simd)('a size family compiles one generic module', () => {
  it('an elementwise map over batches of 3, 5, 7, 9 and 13 rows of 23', () => {
    const compiled = family(BATCHES.map((b) => {
      const x = contiguous([b, 23]), y = { ...contiguous([b, 23]), strides: [0, 1] }, out = contiguous([b, 23]);
      return [lowerElementwise('mul', [x, y], out), [x, y], out];
    }));
    expect(compiled).toEqual([1, 1, 0, 0, 0]);
  });

  it('a bias gradient (a sum over the leading axis) over batches of 3, 5, 7, 9 and 13', () => {
    const compiled = family(BATCHES.map((b) => {
      const x = contiguous([b, 10]), out = contiguous([10]);
      return [lowerReduce('sum', x, [0], out), [x], out];
    }));
    expect(compiled).toEqual([1, 1, 0, 0, 0]);
  });

  it('a row sum over rows of 3, 5, 7, 9 and 13 elements (the four-lane fold and its tail)', () => {
    const compiled = family(BATCHES.map((n) => {
      const x = contiguous([6, n + 4]), out = contiguous([6]);
      return [lowerReduce('max', x, [1], out), [x], out];
    }));
    expect(compiled).toEqual([1, 1, 0, 0, 0]);
  });
});

describe.skipIf(cpuEngine() !== 'wasm')('a jit function over changing batch sizes on the Wasm engine', () => {
  it('compiles no module for a new batch size once its family is generic, bit for bit as eager', () => {
    const body = (x: Tensor, w: Tensor) => x.mul(w).add(0.5).exp().mean(0).sub(x.max(1).sum());
    const f = jit(body);
    const w = randn([19]);
    const compiled = [3, 3, 3, 5, 5, 5, 7, 7, 11, 11, 13, 13].map((b) => {
      const x = randn([b, 19]);
      const before = wasmModuleCount();
      expectSameTensor(f(x, w), body(x, w), `batch ${b}`);
      return wasmModuleCount() - before;
    });
    expect(compiled.slice(6), 'modules compiled for batches 7, 11 and 13').toEqual([0, 0, 0, 0, 0, 0]);
    expect(f.stats.fallbacks).toBe(0);
  });
});
