/**
 * Size-generic kernel templates: sources that differ only in integer literals, each literal
 * an integer-affine function of up to three of them, share one compiled template bound to
 * those values. Results must be those of each source compiled on its own.
 */
import { describe, expect, it } from 'vitest';
import { compileCpuKernel, cpuKernelCount } from '../../../runtime/cpu/compile.js';

/** A kernel that writes out[i] = x[i] * 2.5 + i for i < n, with a second literal 3n + 1 stored at out[n]. */
function source(n: number, tag: string): string {
  return [
    `'use strict';`,
    `return function ${tag}(b0, b1, o0, o1) {`,
    `  for (let i = 0; i < ${n}; i++) b0[o0 + i] = b1[o1 + i] * 2.5 + i;`,
    `  b0[o0 + ${n}] = ${3 * n + 1};`,
    `};`,
  ].join('\n');
}

function run(kernel: (...args: any[]) => void, n: number): number[] {
  const out = new Float64Array(n + 1);
  kernel(out, Float64Array.from({ length: n }, (_, i) => i - 1), 0, 0);
  return Array.from(out);
}

const expected = (n: number) => [...Array.from({ length: n }, (_, i) => (i - 1) * 2.5 + i), 3 * n + 1];

describe('kernel templates', () => {
  it('the third size of a family binds the template fitted from the first two: no compilation', () => {
    const before = cpuKernelCount();
    const a = compileCpuKernel(source(8, 'fam1'), {});
    const b = compileCpuKernel(source(12, 'fam1'), {});
    expect(cpuKernelCount() - before, 'the first on its own, the second as the template').toBe(2);
    const sizes = [5, 100, 1, 37];
    const kernels = sizes.map((n) => compileCpuKernel(source(n, 'fam1'), {}));
    expect(cpuKernelCount() - before, 'later sizes bind the template').toBe(2);
    expect(run(a, 8)).toEqual(expected(8));
    expect(run(b, 12)).toEqual(expected(12));
    sizes.forEach((n, i) => expect(run(kernels[i]!, n), `size ${n}`).toEqual(expected(n)));
    // The same text again is the same kernel.
    expect(compileCpuKernel(source(37, 'fam1'), {})).toBe(kernels[3]);
  });

  it('sizes along two dims: after three members spanning both, any other pair binds one template', () => {
    // out[0] = n, out[1] = m, out[2] = 4n + m + 1, out[3] = 8: literals affine in (m, n).
    const two = (n: number, m: number) => `'use strict';\nreturn function two(b0) { b0[0] = ${n}; b0[1] = ${m}; b0[2] = ${4 * n + m + 1}; b0[3] = 8; };`;
    const run2 = (k: (...args: any[]) => void) => {
      const out = new Float64Array(4);
      k(out);
      return Array.from(out);
    };
    const before = cpuKernelCount();
    for (const [n, m] of [[8, 3], [12, 3], [8, 5]]) expect(run2(compileCpuKernel(two(n!, m!), {}))).toEqual([n, m, 4 * n! + m! + 1, 8]);
    const fitted = cpuKernelCount();
    expect(fitted - before, 'one member, a one-size template, then a two-size template').toBe(3);
    for (const [n, m] of [[20, 7], [1, 1], [100, 64]]) expect(run2(compileCpuKernel(two(n!, m!), {}))).toEqual([n, m, 4 * n! + m! + 1, 8]);
    expect(cpuKernelCount()).toBe(fitted);
  });

  it('the pivot is the literal that varies least, so sizes that are multiples of it (4k next to k) fit', () => {
    const packed = (k: number) => `'use strict';\nreturn function packed(b0) { b0[0] = ${4 * k}; b0[1] = ${k}; };`;
    compileCpuKernel(packed(64), {});
    compileCpuKernel(packed(48), {});
    const before = cpuKernelCount();
    const out = new Float64Array(2);
    compileCpuKernel(packed(37), {})(out);
    expect(Array.from(out)).toEqual([148, 37]);
    expect(cpuKernelCount()).toBe(before);
  });

  it('literals that are not affine in the pivot, or that vary outside the kernel function, get no template', () => {
    const square = (n: number) => `'use strict';\nreturn function sq(b0) { b0[0] = ${n}; b0[1] = ${n * n}; };`;
    const before = cpuKernelCount();
    const kernels = [2, 3, 5, 7].map((n) => compileCpuKernel(square(n), {}));
    // (2,4),(3,9) fit 5n-6, which 5 → 25 does not: each size not on a fitted line compiles.
    expect(cpuKernelCount() - before).toBeGreaterThanOrEqual(3);
    [2, 3, 5, 7].forEach((n, i) => {
      const out = new Float64Array(2);
      kernels[i]!(out);
      expect(Array.from(out)).toEqual([n, n * n]);
    });
    const outside = (n: number) => `'use strict';\nconst s = new Float64Array(${n});\nreturn function out(b0) { s[0] = 1; b0[0] = s.length; };`;
    const start = cpuKernelCount();
    [4, 6, 8].forEach((n) => {
      const out = new Float64Array(1);
      compileCpuKernel(outside(n), {})(out);
      expect(out[0]).toBe(n);
    });
    expect(cpuKernelCount() - start).toBe(3);
  });

  it('digits of names, decimals and exponents are not literals', () => {
    const text = (n: number) => `'use strict';\nreturn function lit(b0, o0) { const v1_2 = 1.5e-7; b0[o0] = v1_2 * 0 + ${n} + 0.25; };`;
    compileCpuKernel(text(10), {});
    compileCpuKernel(text(20), {});
    const before = cpuKernelCount();
    const out = new Float64Array(1);
    compileCpuKernel(text(30), {})(out, 0);
    expect(cpuKernelCount()).toBe(before);
    expect(out[0]).toBe(30.25);
  });
});
