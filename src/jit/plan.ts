/**
 * Compiles a confirmed variant into a kernel plan: static layouts for every value (the
 * signature fixes argument strides; captured tensors never change layout), then fusion.
 */
import type { EffectParams } from '../../compiler/ir/graph.js';
import { viewLayout } from '../../compiler/ir/infer.js';
import { primitiveRules, type Prim } from '../../compiler/ir/primitives.js';
import { contiguousStrides } from '../../compiler/ir/shape.js';
import { planFusion, type FusionPlan, type StaticLayout } from '../../compiler/passes/fuse.js';
import type { Walked } from './signature.js';
import type { OutputSpec, Variant } from './variant.js';

function outputNodes(spec: OutputSpec, out: Set<number>): Set<number> {
  switch (spec.kind) {
    case 'tensor': out.add(spec.node); break;
    case 'array': spec.items.forEach((s) => outputNodes(s, out)); break;
    case 'object': spec.entries.forEach(([, s]) => outputNodes(s, out)); break;
    case 'value': break;
  }
  return out;
}

/** The layout of every value of `v` for arguments shaped like `walked`. */
export function staticLayouts(v: Variant, walked: Walked): (StaticLayout | undefined)[] {
  const nodes = v.trace.graph.nodes;
  const layouts: (StaticLayout | undefined)[] = [];
  nodes.forEach((n, i) => {
    if (n.op === 'write' || n.op === 'observe' || n.op === 'setGrad') return;
    if (n.op === 'input') {
      const { source } = n.params as EffectParams['input'];
      const t = source.kind === 'arg' ? walked.tensors[source.slot] : source.kind === 'capture' ? v.trace.captures[source.slot] : undefined;
      // A gradient input is made contiguous at replay if it is not already.
      layouts[i] = { shape: n.shape, strides: t ? t.strides : contiguousStrides(n.shape), dtype: n.dtype };
      return;
    }
    if (n.op !== 'constant' && primitiveRules[n.op as Prim].kind === 'view') {
      const base = layouts[n.inputs[0]!]!;
      const l = viewLayout(n.op as Prim, { shape: base.shape.slice(), strides: base.strides.slice(), offset: 0 }, n.params as never)!;
      layouts[i] = { shape: l.shape, strides: l.strides, dtype: n.dtype };
      return;
    }
    layouts[i] = { shape: n.shape, strides: contiguousStrides(n.shape), dtype: n.dtype };
  });
  return layouts;
}

/** The fusion plan of `v` (computed once, on its first replay). */
export function planOf(v: Variant, walked: Walked): FusionPlan {
  return (v.plan ??= planFusion(v.trace.graph, staticLayouts(v, walked), outputNodes(v.output, new Set()), v.trace.roots));
}
