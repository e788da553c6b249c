/**
 * The WebAssembly engine's renderer: a kernel spec becomes a Wasm module where the renderer
 * can express it (maps with gathers and scatters, float reductions, argmax and argmin, row
 * kernels, merged kernels of those), the float32 matmul's driver over the memory
 * (compiler/wasm-heap-matmul.ts), a driver of modules and JavaScript for a merged kernel
 * only some of whose parts have Wasm code (./render-mixed.ts), or else the JavaScript
 * kernel, run by the Wasm backend over views of the memory. Which specs take which path
 * depends on the spec alone, so eager ops and compiled graphs always run the same kernel.
 * Members of a size family share a module that takes their differing sizes as parameters
 * (./render-sizes.ts).
 */
import { wasmApi } from '../../../runtime/wasm/api.js';
import type { WasmProgram, WasmTarget } from '../../../runtime/wasm/backend.js';
import type { SplitPlan } from '../../../runtime/wasm/split.js';
import { itemSize, type DType } from '../../../runtime/dtype.js';
import { InternalError } from '../../../runtime/errors.js';
import { unreachable } from '../../../runtime/unreachable.js';
import type { Expr, KernelSpec, MultiSpec } from '../../kernel.js';
import { heapMatmul } from '../../wasm-heap-matmul.js';
import { renderJs } from '../js.js';
import { ModuleBuilder, type Code } from './encoder.js';
import { wasmJsHelpers } from './js-math.js';
import { WasmMath } from './math.js';
import { emitRow, rowSupported } from './render-rows.js';
import { IndexSites } from './render-index.js';
import { renderMixed } from './render-mixed.js';
import { smallExact } from './render-small.js';
import { constantSizes, kernelSizes, type KernelSizes, type SizeMode } from './render-sizes.js';
import { mapSplit, reduceSplit, rowSplit } from './render-split.js';
import { emitMap, emitReduce, mapSupported, multiSupported, reduceSupported, type Frame } from './render-loops.js';

/** The dtype of every arg of a spec, as its JavaScript kernel indexes it. */
export function argDtypes(spec: KernelSpec): DType[] {
  switch (spec.kind) {
    case 'map': case 'reduce': case 'row': case 'loop': return spec.dtypes;
    case 'matmul':
      return [spec.epilogue?.dtype ?? spec.dtype, spec.dtype, spec.dtype, ...spec.extras.map((x) => x.dtype)];
    case 'random': return ['float32'];
    case 'multi': {
      const out = new Array<DType>(spec.args).fill('float32');
      for (const p of spec.parts) p.args.forEach((merged, a) => (out[merged] = p.spec.dtypes[a]!));
      return out;
    }
    default: return unreachable(spec, 'wasm render: spec');
  }
}

function scalarCount(bodies: readonly (readonly Expr[])[]): number {
  let n = 0;
  for (const body of bodies) for (const e of body) if (e.op === 'scalar') n = Math.max(n, e.index + 1);
  return n;
}

/**
 * A module exporting `kernel(size…, address…, offset…: i32, scalar…: f64)` over args of
 * `dtypes`, with `split` three more i32 parameters (from, to, scratch: see
 * runtime/wasm/split.ts): the symbolic sizes of `sizes` come first (./render-sizes.ts), then
 * it computes every arg's base address (address + offset · element size), then `emit` fills
 * in the work. Every module is validated before it leaves the renderer.
 */
function wasmKernel(
  dtypes: readonly DType[], scalars: number, target: WasmTarget, emit: (f: Frame) => void, split?: SplitPlan,
  sizes: KernelSizes = constantSizes, sites?: IndexSites,
): WasmProgram {
  const memory = target.shared ? { initial: 1, maximum: target.maxPages, shared: true } : { initial: 1, shared: false };
  const module = new ModuleBuilder(memory);
  const math = new WasmMath(module);
  const n = dtypes.length;
  const s = sizes.params.length;
  const ranges = split ? ['i32', 'i32', 'i32'] as const : [];
  const params = [
    ...sizes.params, ...new Array<'i32'>(2 * n).fill('i32'), ...new Array<'f64'>(scalars).fill('f64'), ...ranges,
  ];
  const first = s + 2 * n + scalars;
  module.func('kernel', params, sites ? ['f64'] : [], (c: Code) => {
    const bases = dtypes.map((dtype, a) => {
      const base = c.local('i32');
      c.get(s + a).get(s + n + a).i32(itemSize(dtype)).op('i32.mul').op('i32.add').set(base);
      return base;
    });
    const params = split && { from: first, to: first + 1, scratch: first + 2 };
    emit({ c, base: (a) => bases[a]!, scalar: (i) => s + 2 * n + i, math, split: params, sizes, sites });
    if (sites) IndexSites.done(c);
  });
  const bytes = module.encode();
  if (wasmApi !== undefined && !wasmApi.validate(bytes)) {
    throw new InternalError('wasm render: emitted an invalid module');
  }
  return { kind: 'wasm', bytes, entry: 'kernel', split, sizes: sizes.sizes.values, check: sites?.thrower() };
}

function renderMultiWasm(spec: MultiSpec, target: WasmTarget, sizes: KernelSizes): WasmProgram {
  const indexed = spec.parts.some((p) => p.spec.kind === 'map' && IndexSites.present(p.spec.body, p.spec.stores));
  return wasmKernel(argDtypes(spec), 0, target, (f) => {
    for (const part of spec.parts) {
      const frame: Frame = { ...f, base: (a) => f.base(part.args[a]!), split: undefined };
      if (part.spec.kind === 'map') emitMap(frame, part.spec);
      else emitReduce(frame, part.spec);
    }
  }, undefined, sizes, indexed ? new IndexSites() : undefined);
}

/** The JavaScript kernel for a spec, to run over views of the memory, on the Wasm kernels' math functions. */
function javascript(spec: KernelSpec): WasmProgram {
  return { kind: 'js', source: renderJs(spec), helpers: wasmJsHelpers(), dtypes: argDtypes(spec) };
}

/** Whether any arg or node of `spec` is float16 (dtype names are the only strings a spec holds). */
function usesFloat16(spec: KernelSpec): boolean {
  return JSON.stringify(spec).includes('"float16"');
}

/**
 * What the Wasm backend runs for `spec`, built for the memory `target`; in mode `every`,
 * a module that takes every nonzero size as a parameter (to compare with the constant one).
 */
export function renderWasm(spec: KernelSpec, target: WasmTarget, mode: SizeMode = 'family'): WasmProgram {
  // float16 (half bits, rounded at every op) is computed by the JavaScript engine's kernels.
  if (usesFloat16(spec)) return javascript(spec);
  const program = renderProgram(spec, target, mode);
  // A few elements of exact arithmetic cost less in JavaScript than a call into Wasm, when bound.
  if (program.kind === 'wasm' && smallExact(spec)) {
    program.twin = { source: renderJs(spec), helpers: wasmJsHelpers(), dtypes: argDtypes(spec) };
  }
  return program;
}

/** What `renderWasm` runs for a spec without float16. */
function renderProgram(spec: KernelSpec, target: WasmTarget, mode: SizeMode): WasmProgram {
  switch (spec.kind) {
    case 'map': {
      if (!mapSupported(spec)) return javascript(spec);
      const emit = (f: Frame) => emitMap(f, spec);
      const scalars = scalarCount([spec.body]);
      // A kernel that gathers or scatters runs whole on the calling thread (./render-index.ts).
      if (IndexSites.present(spec.body, spec.stores)) {
        return wasmKernel(spec.dtypes, scalars, target, emit, undefined, kernelSizes(spec, mode), new IndexSites());
      }
      return wasmKernel(spec.dtypes, scalars, target, emit, mapSplit(spec), kernelSizes(spec, mode));
    }
    case 'reduce': {
      if (!reduceSupported(spec)) return javascript(spec);
      const emit = (f: Frame) => emitReduce(f, spec);
      const scalars = scalarCount([spec.body]);
      return wasmKernel(spec.dtypes, scalars, target, emit, reduceSplit(spec), kernelSizes(spec, mode));
    }
    case 'multi': {
      if (multiSupported(spec)) return renderMultiWasm(spec, target, kernelSizes(spec, mode));
      const supported = (part: MultiSpec['parts'][number]) => multiSupported({ ...spec, parts: [part] });
      if (!spec.parts.some(supported)) return javascript(spec);
      const render = (run: MultiSpec) => renderMultiWasm(run, target, kernelSizes(run, mode));
      return renderMixed(spec, supported, render, argDtypes(spec));
    }
    case 'matmul': return spec.dtype === 'float32' ? heapMatmul(spec) : javascript(spec);
    // Random numbers come from the JavaScript Philox kernel: the same numbers on every engine.
    case 'random': return javascript(spec);
    // Loop kernels are WebGPU's (one invocation runs a lifted loop); the CPU runs loops by its loop runner.
    case 'loop': return javascript(spec);
    case 'row': {
      if (!rowSupported(spec)) return javascript(spec);
      const scalars = scalarCount(spec.passes.map((p) => p.body));
      // Scratch rows are laid out by the inner size, a constant of the module where they exist.
      const sizes = kernelSizes(spec, mode, spec.scratch > 0 ? [spec.inner] : []);
      return wasmKernel(spec.dtypes, scalars, target, (f) => emitRow(f, spec), rowSplit(spec), sizes);
    }
    default: return unreachable(spec, 'wasm render: spec');
  }
}
