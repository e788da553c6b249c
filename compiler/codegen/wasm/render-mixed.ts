/**
 * A merged kernel only some of whose parts have Wasm code (Adam's update of every parameter
 * merged with its float64 bias correction, a `pow` the Wasm kernels do not compute with
 * JavaScript's bits): a host driver runs its parts in order, each run of consecutive parts
 * with Wasm code as one module and each other run as one JavaScript kernel over views of the
 * memory, so the bulk of the work leaves JavaScript and every part computes what it did.
 */
import { compileCpuKernel } from '../../../runtime/cpu/compile.js';
import { ARRAY_OF } from '../../../runtime/dtype.js';
import { InternalError } from '../../../runtime/errors.js';
import type { WasmProgram } from '../../../runtime/wasm/backend.js';
import { wasmHeap } from '../../../runtime/wasm/memory.js';
import { moduleKey, wasmKernel } from '../../../runtime/wasm/modules.js';
import { withSizes } from '../../../runtime/wasm/split.js';
import type { MultiSpec } from '../../kernel.js';
import { renderJs } from '../js.js';
import { wasmJsHelpers } from './js-math.js';

type Run = (addresses: readonly number[], offsets: readonly number[], scalars: readonly number[]) => void;

/** Consecutive parts of `spec`, grouped by whether `supported` says they have Wasm code. */
function runs(spec: MultiSpec, supported: (part: MultiSpec['parts'][number]) => boolean): [boolean, MultiSpec][] {
  const out: [boolean, MultiSpec][] = [];
  for (const part of spec.parts) {
    const wasm = supported(part);
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === wasm) last[1].parts.push(part);
    else out.push([wasm, { kind: 'multi', args: spec.args, parts: [part] }]);
  }
  return out;
}

/** The module of a run of Wasm parts, called with the args' addresses and offsets. */
function moduleRun(program: WasmProgram): Run {
  if (program.kind !== 'wasm') throw new InternalError(`wasm mixed: a ${program.kind} program for Wasm parts`);
  const kernel = wasmKernel(moduleKey(program.bytes), program.entry, () => program.bytes);
  const entry = withSizes(kernel.exports[program.entry]!, program.sizes) as (...args: number[]) => number;
  const { check } = program;
  return (addresses, offsets) => {
    const code = entry(...addresses, ...offsets);
    check?.(code);
  };
}

/** The JavaScript kernel of a run of parts, over views of the memory from each arg's address. */
function javascriptRun(spec: MultiSpec, dtypes: readonly (keyof typeof ARRAY_OF)[]): Run {
  const kernel = compileCpuKernel(renderJs(spec), wasmJsHelpers());
  return (addresses, offsets, scalars) => {
    const buffer = wasmHeap().memory.buffer;
    const views = addresses.map((address, a) => {
      const ctor = ARRAY_OF[dtypes[a]!];
      return new ctor(buffer, address, Math.floor((buffer.byteLength - address) / ctor.BYTES_PER_ELEMENT));
    });
    kernel(...views, ...offsets, ...scalars);
  };
}

/**
 * A host driver for `spec` where `supported` says which parts have Wasm code and at least
 * one does; `render` makes the module of a run of such parts.
 */
export function renderMixed(
  spec: MultiSpec, supported: (part: MultiSpec['parts'][number]) => boolean,
  render: (run: MultiSpec) => WasmProgram, dtypes: readonly (keyof typeof ARRAY_OF)[],
): WasmProgram {
  const step = ([wasm, run]: [boolean, MultiSpec]): Run => (wasm ? moduleRun(render(run)) : javascriptRun(run, dtypes));
  const steps = runs(spec, supported).map(step);
  return {
    kind: 'host',
    run: (addresses, offsets, scalars) => {
      for (const step of steps) step(addresses, offsets, scalars);
    },
  };
}
