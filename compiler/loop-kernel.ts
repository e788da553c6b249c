/**
 * Lowering of a lifted loop node into one kernel (a LoopSpec): possible when its condition
 * and body are elementwise computations over one element, the shape a `while` on tensors
 * has when its condition reads the loop variables themselves (the seed loop, a scalar
 * Newton iteration). Then every loop variable fits in a register and the whole loop, trip
 * count included, runs inside the kernel: one launch, no readback. Anything else (a
 * reduction, a matmul, values of more than one element) says why it does not fit, and the
 * loop runs as a host-driven loop of compiled steps instead.
 */
import type { DType } from '../runtime/dtype.js';
import { fmtShape } from '../runtime/errors.js';
import type { EffectParams, Graph } from './ir/graph.js';
import { isElementwisePrim, isViewPrim, type Prim } from './ir/primitives.js';
import { sizeOf } from './ir/shape.js';
import type { Expr, LoopSpec } from './kernel.js';

/**
 * Iterations after which a loop kernel stops and reports instead of running on: a GPU
 * busy with a loop that never ends hangs the device (and the desktop with it), while an
 * error names the loop. A loop kernel stopped at 2^26 iterations after 0.8 s on lavapipe
 * (test/src/jit/webgpu-loops.test.ts prints it); a real GPU runs them in a fraction of that.
 */
export const MAX_KERNEL_ITERATIONS = 1 << 26;

/** A graph's nodes as expressions; `load` j reads the graph's arg j. */
function lowerGraph(graph: Graph, what: string): { body: Expr[]; exprOf: number[] } | { reason: string } {
  const body: Expr[] = [];
  const exprOf: number[] = [];
  for (let i = 0; i < graph.nodes.length; i++) {
    const n = graph.nodes[i]!;
    if (sizeOf(n.shape) !== 1) {
      return { reason: `its ${what} computes a ${n.dtype}${fmtShape(n.shape)} value, not one element` };
    }
    if (n.op === 'input') {
      const { source } = n.params;
      if (source.kind !== 'arg') return { reason: `its ${what} reads a ${source.kind}` };
      body.push({ op: 'load', arg: source.slot });
    } else if (n.op === 'constant') {
      const p = n.params;
      if (p.numberSlot !== undefined) body.push({ op: 'scalar', index: p.numberSlot, dtype: n.dtype });
      else {
        const value = p.data !== undefined ? p.data[0] : p.value;
        if (value === undefined) return { reason: `its ${what} has a constant without a value` };
        body.push({ op: 'literal', value, dtype: n.dtype });
      }
    } else if (n.op === 'cast') {
      body.push({ op: 'cast', arg: exprOf[n.inputs[0]!]!, from: graph.nodes[n.inputs[0]!]!.dtype, to: n.dtype });
    } else if (isPrimOp(n.op) && isViewPrim(n.op)) {
      // A view of one element is that element.
      exprOf[i] = exprOf[n.inputs[0]!]!;
      continue;
    } else if (isPrimOp(n.op) && isElementwisePrim(n.op) && n.op !== 'copy') {
      const args = n.inputs.map((x) => exprOf[x]!);
      body.push({ op: 'prim', prim: n.op, args, dtype: graph.nodes[n.inputs[n.inputs.length - 1]!]!.dtype });
    } else if (n.op === 'copy') {
      exprOf[i] = exprOf[n.inputs[0]!]!;
      continue;
    } else {
      return { reason: `its ${what} has a ${n.op}, which is not elementwise` };
    }
    exprOf[i] = body.length - 1;
  }
  return { body, exprOf };
}

function isPrimOp(op: string): op is Prim {
  return op !== 'input' && op !== 'constant' && op !== 'write' && op !== 'observe' && op !== 'setGrad' && op !== 'loop'
    && op !== 'loopResult';
}

/**
 * The loop kernel of a loop node whose operands have `dtypes` (loop variables, then
 * invariants), or why the loop does not fit one kernel.
 */
export function loopKernelSpec(p: EffectParams['loop'], dtypes: readonly DType[]): LoopSpec | { reason: string } {
  const cond = lowerGraph(p.cond, 'condition');
  if ('reason' in cond) return cond;
  const body = lowerGraph(p.body, 'body');
  if ('reason' in body) return body;
  return {
    kind: 'loop',
    dtypes: [...dtypes.slice(0, p.carried), 'int32', ...dtypes],
    carried: p.carried,
    invariants: dtypes.length - p.carried,
    cond: cond.body,
    condValue: cond.exprOf[p.condValue]!,
    exports: p.condExports.map((x) => cond.exprOf[x]!),
    exits: p.exits.map((x) => cond.exprOf[x]!),
    body: body.body,
    results: p.results.map((x) => body.exprOf[x]!),
    maxIterations: MAX_KERNEL_ITERATIONS,
  };
}
