/**
 * Size-generic kernels: specs that differ only in their size numbers form a family. The
 * first member compiles as a concrete kernel; a later member makes the numbers that
 * differed parameters of one size-generic kernel, which every further member whose text is
 * the same binds without compiling. Results must be those of each spec compiled on its own.
 */
import { describe, expect, it } from 'vitest';
import { cpu } from '../../../compiler/backends.js';
import { renderJs } from '../../../compiler/codegen/js.js';
import { jsProgram } from '../../../compiler/codegen/js-program.js';
import { specKey, type KernelSpec, type MapSpec, type MatmulSpec, type RowSpec } from '../../../compiler/kernel.js';
import { familyKey, sizeValues } from '../../../compiler/sizes.js';
import { cpuKernelCount } from '../../../runtime/cpu/compile.js';

/** Compiles `spec` on the CPU backend (cached under its own key) and runs it on float64 buffers. */
function run(spec: KernelSpec, buffers: Float64Array[] | Int32Array[]): void {
  const kernel = cpu.compile(specKey(spec), () => spec);
  cpu.run([{ kernel, args: buffers.map((data) => ({ data, offset: 0 })), scalars: [] }]);
}

/** out[i] = x[i] * `scale` + i for i < n, then out[n] = `tail` (an integer constant of the body). */
function affine(n: number, scale: number, tail: number): MapSpec {
  return {
    kind: 'map', shape: [n], dtypes: ['float64', 'float64'], strides: [[1], [1]],
    body: [
      { op: 'load', arg: 1 }, { op: 'literal', value: scale, dtype: 'float64' },
      { op: 'prim', prim: 'mul', args: [0, 1], dtype: 'float64' }, { op: 'position' },
      { op: 'prim', prim: 'add', args: [2, 3], dtype: 'float64' }, { op: 'literal', value: tail, dtype: 'float64' },
    ],
    stores: [{ arg: 0, node: 4 }],
  };
}

function runAffine(n: number, scale: number): number[] {
  const out = new Float64Array(n);
  run(affine(n, scale, 3 * n + 1), [out, Float64Array.from({ length: n }, (_, i) => i - 1)]);
  return Array.from(out);
}

const expectedAffine = (n: number, scale: number) => Array.from({ length: n }, (_, i) => (i - 1) * scale + i);

describe('size families', () => {
  it('the third size of a family binds the size-generic kernel of the second: no compilation', () => {
    const before = cpuKernelCount();
    expect(runAffine(8, 2.5)).toEqual(expectedAffine(8, 2.5));
    expect(runAffine(12, 2.5)).toEqual(expectedAffine(12, 2.5));
    expect(cpuKernelCount() - before, 'the first as a concrete kernel, the second size-generic').toBe(2);
    // Loops shorter than 32 run one element at a time, as 8 and 12 do: the same text.
    for (const n of [5, 31, 1, 20]) expect(runAffine(n, 2.5), `size ${n}`).toEqual(expectedAffine(n, 2.5));
    expect(cpuKernelCount() - before, 'later sizes bind the size-generic kernel').toBe(2);
    // The same spec again is the same kernel.
    const spec = affine(20, 2.5, 61);
    expect(cpu.compile(specKey(spec), () => spec)).toBe(cpu.compile(specKey(spec), () => affine(20, 2.5, 61)));
  });

  it('the first member renders exactly the concrete text; later members read only the differing numbers', () => {
    const first = affine(6, 4.5, 19), second = affine(9, 4.5, 28);
    expect(familyKey(first)).toBe(familyKey(second));
    expect(sizeValues(first)).toEqual([6, 1, 1, 19]);
    expect(jsProgram(first)).toMatchObject({ source: renderJs(first), sizes: [] });
    const generic = jsProgram(second);
    // Shape and tail differ; the unit strides stay constants of the text.
    expect(generic.sizes).toEqual([9, 28]);
    expect(generic.source).toContain('return function map(z0, z3, b0, b1, o0, o1)');
    expect(generic.source).toContain('pi0 < z0');
    expect(jsProgram(affine(40 - 30, 4.5, 31)).source, 'another member: the same text').toBe(generic.source);
  });

  it('sizes along two dims: after members spanning both, any other pair binds one kernel', () => {
    // A [n, m] map with strides [m, 1] (a transposed copy would be another family).
    const grid = (n: number, m: number): MapSpec => ({
      kind: 'map', shape: [n, m], dtypes: ['float64', 'float64'], strides: [[m, 1], [m, 1]],
      body: [{ op: 'load', arg: 1 }, { op: 'literal', value: 0.5, dtype: 'float64' }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'float64' }],
      stores: [{ arg: 0, node: 2 }],
    });
    const check = (n: number, m: number) => {
      const x = Float64Array.from({ length: n * m }, (_, i) => i * 3), out = new Float64Array(n * m);
      run(grid(n, m), [out, x]);
      expect(Array.from(out), `${n}x${m}`).toEqual(Array.from(x, (v) => v + 0.5));
    };
    const before = cpuKernelCount();
    for (const [n, m] of [[8, 3], [12, 3], [8, 5]]) check(n!, m!);
    const fitted = cpuKernelCount();
    expect(fitted - before, 'a concrete kernel, one generic in n, then one generic in n and m').toBe(3);
    for (const [n, m] of [[20, 7], [1, 1], [100, 30]]) check(n!, m!);
    expect(cpuKernelCount()).toBe(fitted);
    // A decision that depends on a value shows in the text: rows of 64 interleave.
    check(3, 64);
    expect(cpuKernelCount(), 'interleaved rows are another text').toBe(fitted + 1);
    check(5, 128);
    expect(cpuKernelCount(), 'and then one kernel for every interleaved length').toBe(fitted + 1);
    check(5, 130);
    expect(cpuKernelCount(), 'a remainder loop is another text').toBe(fitted + 2);
  });

  it('a matmul packs 4k elements for any k: kernels that differ in k share one kernel', () => {
    const mm = (k: number): MatmulSpec => ({
      kind: 'matmul', dtype: 'int32', batch: [], batchStrides: [[], [], []], m: 3, n: 5, k,
      aStrides: [k, 1], bStrides: [5, 1], extras: [], epilogue: null,
    });
    const check = (k: number) => {
      const a = Int32Array.from({ length: 3 * k }, (_, i) => (i % 7) - 3), b = Int32Array.from({ length: k * 5 }, (_, i) => (i % 5) - 2);
      const c = new Int32Array(15);
      run(mm(k), [c, a, b]);
      const want = Array.from({ length: 15 }, (_, e) => {
        let s = 0;
        for (let kk = 0; kk < k; kk++) s += a[Math.floor(e / 5) * k + kk]! * b[kk * 5 + (e % 5)]!;
        return s;
      });
      expect(Array.from(c), `k = ${k}`).toEqual(want);
    };
    check(64);
    check(48);
    const before = cpuKernelCount();
    check(37);
    check(100);
    expect(cpuKernelCount()).toBe(before);
  });

  it('a row kernel whose rows grow after a shorter member grows its scratch rows inside the kernel', () => {
    // Softmax-like: max over the row (saved in scratch 0), then x - max stored.
    const rows = (outer: number, inner: number): RowSpec => ({
      kind: 'row', outer: [outer], inner: [inner], dtypes: ['float64', 'float64'],
      outerStrides: [[inner], [inner]], innerStrides: [[1], [1]], rows: 1, scratch: 1,
      passes: [
        { kind: 'reduce', op: 'max', dtype: 'float64', outDtype: 'float64', body: [{ op: 'load', arg: 1 }], value: 0, row: 0, saves: [{ node: 0, index: 0 }] },
        { kind: 'map', body: [{ op: 'scratch', index: 0 }, { op: 'row', index: 0 }, { op: 'prim', prim: 'sub', args: [0, 1], dtype: 'float64' }], stores: [{ arg: 0, node: 2 }], saves: [] },
      ],
    });
    const before = cpuKernelCount();
    for (const [outer, inner] of [[3, 4], [3, 6], [3, 50], [3, 2], [3, 400]]) {
      const x = Float64Array.from({ length: outer * inner }, (_, i) => Math.sin(i) * 10), out = new Float64Array(outer * inner);
      run(rows(outer, inner), [out, x]);
      const want = Array.from(x, (v, i) => {
        const r = Math.floor(i / inner);
        return v - Math.max(...x.subarray(r * inner, (r + 1) * inner));
      });
      expect(Array.from(out), `${outer}x${inner}`).toEqual(want);
    }
    expect(cpuKernelCount() - before, 'a concrete kernel, then one generic in the row length').toBe(2);
  });

  it('non-integer constants are structure: another constant is another family, compiled on its own', () => {
    expect(familyKey(affine(8, 1.5e-7, 25))).not.toBe(familyKey(affine(8, 0.25, 25)));
    const before = cpuKernelCount();
    expect(runAffine(8, 0.25)).toEqual(expectedAffine(8, 0.25));
    expect(runAffine(8, 1.5e-7)).toEqual(expectedAffine(8, 1.5e-7));
    expect(cpuKernelCount() - before).toBe(2);
  });
});
