/**
 * Runs lowered kernels on CPU buffers: key → cached compiled kernel → call. This is the
 * whole eager CPU backend; the JIT reuses it for the kernels of compiled graphs.
 */
import { ARRAY_OF, type TypedArray } from '../runtime/dtype.js';
import { compileCpuKernel, cpuKernelCount, type CpuKernel } from '../runtime/cpu/compile.js';
import { renderJs } from './codegen/js.js';
import { wasmMatmul } from './wasm-matmul.js';
import { jsHelpers } from './codegen/js-helpers.js';
import { InternalError } from '../runtime/errors.js';
import { isElementwise, primitiveRules, type BinaryPrim, type Params, type Prim, type ReducePrim, type UnaryPrim } from './ir/primitives.js';
import { contiguousStrides, isContiguous, sizeOf } from './ir/shape.js';
import {
  lowerElementwise, lowerFill, lowerGather, lowerIota, lowerMatmul, lowerRandom, lowerReduce, lowerScatterAdd,
  type Layout, type Lowered,
} from './lower.js';

const kernels = new Map<string, CpuKernel>();

let onCompile: ((source: string) => void) | undefined;

/** Calls `listener` with the source of every CPU kernel compiled from now on (undefined stops). */
export function onKernelCompile(listener: ((source: string) => void) | undefined): void {
  onCompile = listener;
}

/** The compiled kernel for a lowered spec, rendering and compiling it on first use. */
export function cpuKernel(lowered: Lowered): CpuKernel {
  let k = kernels.get(lowered.key);
  if (k === undefined) {
    const spec = lowered.build();
    // float32 matmuls run on the Wasm engine's SIMD gemm, for eager and jit alike.
    const wasm = spec.kind === 'matmul' ? wasmMatmul(spec) : undefined;
    if (wasm !== undefined) {
      kernels.set(lowered.key, wasm);
      return wasm;
    }
    const source = renderJs(spec);
    const compiled = cpuKernelCount();
    k = compileCpuKernel(source, jsHelpers);
    kernels.set(lowered.key, k);
    // Two specs can render the same text, which the runtime compiles only once.
    if (cpuKernelCount() > compiled) onCompile?.(source);
  }
  return k;
}


/** The generated source of a lowered spec (for explanations and tests). */
export function cpuSource(lowered: Lowered): string {
  return renderJs(lowered.build());
}

/** A kernel argument: a buffer and how the value's elements sit in it. */
export interface Operand extends Layout {
  data: TypedArray;
}

/** Calls the kernel with every arg's buffer, then every arg's offset, then the scalars. */
function run(lowered: Lowered, args: readonly Operand[], scalars: readonly number[] = []): void {
  const n = args.length;
  const argv = new Array<TypedArray | number>(2 * n + scalars.length);
  for (let i = 0; i < n; i++) {
    argv[i] = args[i]!.data;
    argv[n + i] = args[i]!.offset;
  }
  for (let i = 0; i < scalars.length; i++) argv[2 * n + i] = scalars[i]!;
  cpuKernel(lowered).apply(undefined, argv);
}

/** Where `out` sits inside a larger region starting `starts` elements in along each dim. */
function region(out: Operand, shape: readonly number[], starts: readonly number[]): Operand {
  let offset = out.offset;
  starts.forEach((s, d) => (offset += s * out.strides[d]!));
  return { ...out, shape, offset };
}

const ROW_MAJOR_OUT = new Set<string>(['reduce', 'matmul', 'random', 'iota']);

/**
 * Computes primitive `prim` of `inputs` into `out`, whose layout (fresh and contiguous, or
 * a view for in-place ops) the caller chose. Views never get here: they move no data.
 */
export function executePrim<P extends Prim>(prim: P, params: Params<P>, inputs: readonly Operand[], out: Operand): void {
  if (sizeOf(out.shape) === 0) return;
  const rule = primitiveRules[prim];
  if (ROW_MAJOR_OUT.has(rule.kind) && !isContiguous(out.shape, out.strides)) {
    // These kernels write their output row-major, so a strided destination gets a copy.
    const dense: Operand = { data: new ARRAY_OF[out.dtype](sizeOf(out.shape)), dtype: out.dtype, shape: out.shape, strides: contiguousStrides(out.shape), offset: 0 };
    executePrim(prim, params, inputs, dense);
    run(lowerElementwise('copy', [dense], out), [out, dense]);
    return;
  }
  if (isElementwise(rule) || rule.kind === 'cast') {
    const args = [out];
    for (let i = 0; i < inputs.length; i++) args.push(inputs[i]!);
    run(lowerElementwise(prim as UnaryPrim | BinaryPrim | 'where' | 'cast', inputs, out), args);
    return;
  }
  switch (rule.kind) {
    case 'reduce': {
      const axes = prim === 'argmax' || prim === 'argmin' ? [(params as Params<'argmax'>).axis] : (params as Params<'sum'>).axes;
      run(lowerReduce(prim as ReducePrim, inputs[0]!, axes, out), [out, inputs[0]!]);
      return;
    }
    case 'matmul':
      run(lowerMatmul(inputs[0]!, inputs[1]!, out), [out, inputs[0]!, inputs[1]!]);
      return;
    case 'gather':
      run(lowerGather(inputs[0]!, inputs[1]!, (params as Params<'gather'>).axis, out), [out, inputs[1]!, inputs[0]!]);
      return;
    case 'scatterAdd': {
      const [base, index, src] = inputs as [Operand, Operand, Operand];
      run(lowerElementwise('copy', [base], out), [out, base]);
      if (sizeOf(index.shape) > 0) run(lowerScatterAdd(out, index, src, (params as Params<'scatterAdd'>).axis), [out, index, src]);
      return;
    }
    case 'pad': {
      const { before, value } = params as Params<'pad'>;
      run(lowerFill(out), [out], [value]);
      const x = inputs[0]!;
      if (sizeOf(x.shape) > 0) {
        const inner = region(out, x.shape, before);
        run(lowerElementwise('copy', [x], inner), [inner, x]);
      }
      return;
    }
    case 'concat': {
      const { axis } = params as Params<'concat'>;
      let at = 0;
      for (const x of inputs) {
        if (sizeOf(x.shape) > 0) {
          const inner = region(out, x.shape, x.shape.map((_, d) => (d === axis ? at : 0)));
          run(lowerElementwise('copy', [x], inner), [inner, x]);
        }
        at += x.shape[axis]!;
      }
      return;
    }
    case 'random': {
      const { seed, offset } = params as Params<'random'>;
      run(lowerRandom(out), [out], [seed, offset]);
      return;
    }
    case 'iota':
      run(lowerIota(out), [out]);
      return;
  }
  throw new InternalError(`executePrim: ${prim} moves no data`);
}
