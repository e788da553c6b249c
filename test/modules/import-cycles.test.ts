/**
 * Imports run one way (src → compiler → runtime), and modules import each other in a cycle
 * only where the Tensor class, the ops and autograd need each other: a tensor's methods
 * call the ops, the ops make tensors, and backward runs ops whose results autograd records.
 */
import { describe, expect, it } from 'vitest';
import { importCycles, modulesUnder, importsOf } from './module-graph.js';

/** The modules allowed in a cycle: the Tensor class with its device moves, the ops and autograd. */
function tensorOpsAutograd(file: string): boolean {
  return ['src/tensor.ts', 'src/device.ts', 'src/dispatch.ts'].includes(file) ||
    file.startsWith('src/ops/') || file.startsWith('src/autograd/');
}

describe('module imports', () => {
  const all = modulesUnder('src', 'compiler', 'runtime');

  it('form no cycle outside Tensor, ops and autograd', () => {
    const cycles = importCycles(all);
    expect(cycles.map((c) => c.filter((f) => !tensorOpsAutograd(f)))).toEqual(cycles.map(() => []));
    expect(cycles.length).toBeLessThanOrEqual(1);
  });

  it('find a cycle where there is one', () => {
    expect(importCycles(all).flat()).toContain('src/tensor.ts');
  });

  it('run from src to compiler to runtime, never back', () => {
    const backwards = (from: string, to: readonly string[]) =>
      modulesUnder(from).flatMap((f) => importsOf(f, { types: true }).filter((g) => to.some((t) => g.startsWith(`${t}/`))).map((g) => `${f} -> ${g}`));
    expect(backwards('compiler', ['src'])).toEqual([]);
    expect(backwards('runtime', ['src', 'compiler'])).toEqual([]);
  });
});
