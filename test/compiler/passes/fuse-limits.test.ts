/**
 * planFusion's device options: a kernel binds one buffer per arg, so `maxArgs` (a WebGPU
 * device's maxStorageBuffersPerShaderStage) caps what fusion merges; `devices` keeps values
 * of different devices out of one kernel. Every fusion not made says why.
 */
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../compiler/ir/graph.js';
import { contiguousStrides } from '../../../compiler/ir/shape.js';
import type { KernelSpec } from '../../../compiler/kernel.js';
import { planFusion, type FusedStep, type FusionOptions } from '../../../compiler/passes/fuse.js';
import { GraphBuilder } from '../graph-builder.js';

function plan(g: Graph, keep: number[], options?: FusionOptions) {
  const layouts = g.nodes.map((n) => ({ shape: n.shape, strides: contiguousStrides(n.shape), dtype: n.dtype }));
  return planFusion(g, layouts, new Set(keep), g.nodes.map((_, i) => i), options);
}

/** Buffers each launch of a step binds (the parts of a merged kernel launch separately on WebGPU). */
function argsPerLaunch(spec: KernelSpec): number[] {
  switch (spec.kind) {
    case 'multi': return spec.parts.map((p) => p.args.length);
    case 'matmul': return [3 + spec.extras.length];
    case 'random': return [1];
    default: return [spec.dtypes.length];
  }
}

function fused(steps: ReturnType<typeof plan>['steps']): FusedStep[] {
  return steps.filter((s): s is FusedStep => s.kind === 'fused');
}

/** x0 * 0.5 + x1 * 0.5 + … over `n` inputs of shape [8]. */
function manyOperands(n: number): { g: Graph; out: number } {
  const b = new GraphBuilder();
  const xs = Array.from({ length: n }, (_, i) => b.input({ kind: 'arg', slot: i }, 'float32', [8]));
  let acc = xs[0]!;
  for (const x of xs.slice(1)) acc = b.prim('add', [acc, b.prim('mul', [x, b.scalar(0.5, 'float32', [8])])]);
  return { g: b.graph(), out: acc };
}

describe('planFusion under a limit of buffers per kernel', () => {
  it('without a limit, an elementwise chain over 12 inputs is one kernel of 13 buffers', () => {
    const { g, out } = manyOperands(12);
    const steps = fused(plan(g, [out]).steps);
    expect(steps).toHaveLength(1);
    expect(argsPerLaunch(steps[0]!.spec)).toEqual([13]);
  });

  it('with maxArgs, no launch binds more, and the rejected fusions say why', () => {
    const { g, out } = manyOperands(12);
    const p = plan(g, [out], { maxArgs: 5 });
    const launches = fused(p.steps).flatMap((s) => argsPerLaunch(s.spec));
    expect(launches.length).toBeGreaterThan(1);
    expect(Math.max(...launches)).toBeLessThanOrEqual(5);
    expect(p.rejected.join('\n')).toContain('the kernel would bind 6 buffers, and the device allows 5 per kernel');
  });

  it('a reduction with its elementwise producers stays within the limit', () => {
    const b = new GraphBuilder();
    const xs = Array.from({ length: 6 }, (_, i) => b.input({ kind: 'arg', slot: i }, 'float32', [4, 8]));
    const total = xs.slice(1).reduce((acc, x) => b.prim('add', [acc, x]), xs[0]!);
    const r = b.prim('sum', [total], { axes: [0] });
    // Unlimited, the additions and the sum are one kernel.
    expect(fused(plan(b.graph(), [r]).steps)).toHaveLength(1);
    const p = plan(b.graph(), [r], { maxArgs: 4 });
    expect(p.rejected.join('\n')).toMatch(/row kernel around %\d+ not formed: the kernel would bind 7 buffers/);
    const kinds = fused(p.steps).flatMap((s) => (s.spec.kind === 'multi' ? s.spec.parts.map((part) => part.spec.kind) : [s.spec.kind]));
    expect(kinds).toContain('reduce');
    for (const s of fused(p.steps)) expect(Math.max(...argsPerLaunch(s.spec))).toBeLessThanOrEqual(4);
  });

  it('a matmul takes no epilogue that would bind too many buffers', () => {
    const b = new GraphBuilder();
    const a = b.input({ kind: 'arg', slot: 0 }, 'float32', [4, 5]);
    const w = b.input({ kind: 'arg', slot: 1 }, 'float32', [5, 3]);
    const mm = b.prim('matmul', [a, w]);
    const c = b.input({ kind: 'arg', slot: 2 }, 'float32', [4, 3]);
    const d = b.input({ kind: 'arg', slot: 3 }, 'float32', [4, 3]);
    const out = b.prim('mul', [b.prim('add', [mm, c]), d]);
    expect(fused(plan(b.graph(), [out]).steps).map((s) => s.spec.kind)).toEqual(['matmul']);
    const p = plan(b.graph(), [out], { maxArgs: 4 });
    expect(fused(p.steps).map((s) => s.spec.kind)).toEqual(['map']);
    expect(p.rejected.join('\n')).toMatch(/not fused into the matmul %\d+ as its epilogue: the kernel would bind 5 buffers/);
  });

  it('a row kernel (softmax) that would bind too many buffers is not formed; its nodes are fused as usual', () => {
    const b = new GraphBuilder();
    const x = b.input({ kind: 'arg', slot: 0 }, 'float32', [3, 8]);
    const rowwise = (r: number) => b.prim('expand', [b.prim('reshape', [r], { shape: [3, 1] })], { shape: [3, 8] });
    const m = rowwise(b.prim('max', [x], { axes: [1] }));
    const e = b.prim('exp', [b.prim('sub', [x, m])]);
    const s = rowwise(b.prim('sum', [e], { axes: [1] }));
    const out = b.prim('div', [e, s]);
    expect(fused(plan(b.graph(), [out]).steps).map((st) => st.spec.kind)).toEqual(['row']);
    const p = plan(b.graph(), [out], { maxArgs: 1 });
    expect(fused(p.steps).some((st) => st.spec.kind === 'row')).toBe(false);
    expect(p.rejected.join('\n')).toMatch(/row kernel around %\d+ not formed: the kernel would bind 2 buffers, and the device allows 1/);
  });
});

describe('planFusion across devices', () => {
  it('values of different devices never share a kernel, merged or not', () => {
    const b = new GraphBuilder();
    const x = b.input({ kind: 'arg', slot: 0 }, 'float32', [8]);
    const y = b.input({ kind: 'arg', slot: 1 }, 'float32', [8]);
    const onCpu = b.prim('exp', [b.prim('add', [y, y])]);
    const onGpu = b.prim('exp', [b.prim('mul', [x, x])]);
    const both = b.prim('add', [onGpu, onCpu]);
    const g = b.graph();
    const devices = g.nodes.map((_, i) => (i === y || (i > y && i <= onCpu) ? 'cpu' : 'webgpu'));
    const p = plan(g, [both, onCpu], { devices });
    for (const st of fused(p.steps)) {
      const spanned = new Set(st.nodes.map((n) => devices[n]));
      expect(spanned.size, `kernel of ${st.nodes}`).toBe(1);
    }
    expect(p.rejected.join('\n')).toContain('they live on different devices');
    // On one device, the same graph is one kernel.
    expect(fused(plan(g, [both, onCpu]).steps)).toHaveLength(1);
  });
});
