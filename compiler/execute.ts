/**
 * The one eager executor: a primitive is "a fused group of one", lowered by the same
 * lower.ts functions as the JIT's groups and launched on whichever backend holds its
 * operands. The per-primitive dispatch exists here only.
 */
import type { Backend, KernelArg } from '../runtime/backend.js';
import type { TypedArray } from '../runtime/dtype.js';
import type { CpuKernel } from '../runtime/cpu/compile.js';
import { renderJs } from './codegen/js.js';
import { cpu, tensorCpu } from './backends.js';
import { InternalError } from '../runtime/errors.js';
import { unreachable } from '../runtime/unreachable.js';
import {
  isElementwisePrim, primCall, primitiveRules, type Params, type Prim, type PrimCall, type StructuredPrim,
} from './ir/primitives.js';
import { contiguousStrides, isContiguous, sizeOf } from './ir/shape.js';
import type { KernelSpec } from './kernel.js';
import { lowerElementwiseCached } from './lower-dense.js';
import {
  lowerElementwise, lowerFill, lowerGather, lowerIota, lowerMatmul, lowerRandom, lowerReduce, lowerScatterAdd,
  type Layout, type Lowered,
} from './lower.js';

/** Calls `listener` with the source of every CPU kernel compiled from now on (undefined stops). */
export function onKernelCompile(listener: ((source: string) => void) | undefined): void {
  tensorCpu.onCompile = listener;
}

/** The compiled CPU kernel for a lowered spec, rendering and compiling it on first use. */
export function cpuKernel(lowered: Lowered): CpuKernel {
  return cpu.compile(lowered.key, lowered.build);
}

/** The generated source of a lowered spec (for explanations and tests). */
export function cpuSource(lowered: Lowered): string {
  return renderJs(lowered.build());
}

/** A kernel argument: a backend buffer (a typed array on the CPU) and how the value's elements sit in it. */
export interface Operand<B = TypedArray> extends Layout, KernelArg<B> {}

const NO_SCALARS: readonly number[] = [];

/** Launches `lowered` on `backend` with `args` (buffers and offsets) and the scalars. */
function run<B, K>(
  backend: Backend<B, K, KernelSpec>, lowered: Lowered, args: readonly Operand<B>[], scalars = NO_SCALARS,
): void {
  backend.run([{ kernel: backend.compile(lowered.key, lowered.build), args, scalars }]);
}

/** Where `out` sits inside a larger region starting `starts` elements in along each dim. */
function region<B>(out: Operand<B>, shape: readonly number[], starts: readonly number[]): Operand<B> {
  let offset = out.offset;
  starts.forEach((s, d) => (offset += s * out.strides[d]!));
  return { ...out, shape, offset };
}

/** Kernel kinds that write their output row-major. */
const ROW_MAJOR_OUT = new Set<string>(['reduce', 'matmul', 'random', 'iota']);

/**
 * Computes primitive `prim` of `inputs` into `out`, whose layout (fresh and contiguous, or
 * a view for in-place ops) the caller chose. Views never get here: they move no data.
 */
export function executePrim<P extends Prim, B, K>(
  backend: Backend<B, K, KernelSpec>, prim: P, params: Params<P>, inputs: readonly Operand<B>[], out: Operand<B>,
): void {
  const size = sizeOf(out.shape);
  if (size === 0) return;
  // Elementwise ops are most eager calls: they go first, without the call object the
  // structured primitives' switch needs (saving ~10% of an eager add of [16]).
  if (isElementwisePrim(prim) || prim === 'cast') {
    const args = [out];
    for (let i = 0; i < inputs.length; i++) args.push(inputs[i]!);
    run(backend, lowerElementwiseCached(prim, inputs, out, size), args);
    return;
  }
  const rule = primitiveRules[prim];
  if (ROW_MAJOR_OUT.has(rule.kind) && !isContiguous(out.shape, out.strides)) {
    // These kernels write their output row-major, so a strided destination gets a copy.
    const data = backend.alloc(out.dtype, sizeOf(out.shape));
    const strides = contiguousStrides(out.shape);
    const dense: Operand<B> = { data, dtype: out.dtype, shape: out.shape, strides, offset: 0 };
    executePrim(backend, prim, params, inputs, dense);
    run(backend, lowerElementwise('copy', [dense], out), [out, dense]);
    // Launches run in recording order, so the buffer may be reused by anything recorded later.
    backend.free(data);
    return;
  }
  // Elementwise primitives and cast returned above.
  const call = primCall(prim, params) as PrimCall<Exclude<StructuredPrim, 'cast'>>;
  switch (call.prim) {
    case 'sum': case 'prod': case 'max': case 'min': case 'argmax': case 'argmin': {
      const axes = call.prim === 'argmax' || call.prim === 'argmin' ? [call.params.axis] : call.params.axes;
      run(backend, lowerReduce(call.prim, inputs[0]!, axes, out), [out, inputs[0]!]);
      return;
    }
    case 'matmul':
      run(backend, lowerMatmul(inputs[0]!, inputs[1]!, out), [out, inputs[0]!, inputs[1]!]);
      return;
    case 'gather':
      run(backend, lowerGather(inputs[0]!, inputs[1]!, call.params.axis, out), [out, inputs[1]!, inputs[0]!]);
      return;
    case 'scatterAdd': {
      const [base, index, src] = inputs as [Operand<B>, Operand<B>, Operand<B>];
      run(backend, lowerElementwise('copy', [base], out), [out, base]);
      if (sizeOf(index.shape) > 0) run(backend, lowerScatterAdd(out, index, src, call.params.axis), [out, index, src]);
      return;
    }
    case 'pad': {
      const { before, value } = call.params;
      run(backend, lowerFill(out), [out], [value]);
      const x = inputs[0]!;
      if (sizeOf(x.shape) > 0) {
        const inner = region(out, x.shape, before);
        run(backend, lowerElementwise('copy', [x], inner), [inner, x]);
      }
      return;
    }
    case 'concat': {
      const { axis } = call.params;
      let at = 0;
      for (const x of inputs) {
        if (sizeOf(x.shape) > 0) {
          const inner = region(out, x.shape, x.shape.map((_, d) => (d === axis ? at : 0)));
          run(backend, lowerElementwise('copy', [x], inner), [inner, x]);
        }
        at += x.shape[axis]!;
      }
      return;
    }
    case 'random': {
      const { seed, offset } = call.params;
      run(backend, lowerRandom(out), [out], [seed, offset]);
      return;
    }
    case 'iota':
      run(backend, lowerIota(out), [out]);
      return;
    case 'reshape': case 'permute': case 'expand': case 'slice':
      throw new InternalError(`executePrim: ${prim} moves no data`);
    default:
      unreachable(call, 'executePrim');
  }
}
