/**
 * Wasm backend kernels for CPU tensors whose storage is still JavaScript typed arrays: each
 * call writes its typed arrays into buffers of the Wasm backend (one per distinct array, so
 * an in-place op reads and writes one buffer), launches the Wasm backend's kernel for the
 * spec, and copies back the args the kernel writes. The copies cost what they cost; this
 * exists so that tensors (eager and jit, the whole op table) can run on the Wasm engine's
 * kernels before tensor storage lives in the Wasm memory.
 */
import type { CpuKernel } from '../runtime/cpu/compile.js';
import type { DType, TypedArray } from '../runtime/dtype.js';
import type { WasmBackend, WasmBuffer } from '../runtime/wasm/backend.js';
import { unreachable } from '../runtime/unreachable.js';
import { argDtypes } from './codegen/wasm/render.js';
import type { KernelSpec, RowSpec } from './kernel.js';

/** The args a kernel stores into. */
export function writtenArgs(spec: KernelSpec): number[] {
  switch (spec.kind) {
    case 'map': return spec.stores.map((st) => st.arg);
    case 'reduce': case 'matmul': case 'random': return [0];
    case 'row': return rowStores(spec);
    case 'multi': return spec.parts.flatMap((p) => writtenArgs(p.spec).map((a) => p.args[a]!));
    // The final values and the iteration count.
    case 'loop': return Array.from({ length: spec.carried + 1 }, (_, a) => a);
    default: return unreachable(spec, 'wasm staging: spec');
  }
}

function rowStores(spec: RowSpec): number[] {
  return spec.passes.flatMap((pass) => {
    switch (pass.kind) {
      case 'reduce': case 'scalar': return pass.store === undefined ? [] : [pass.store];
      case 'map': return pass.stores.map((st) => st.arg);
      default: return unreachable(pass, 'wasm staging: row pass');
    }
  });
}

/** A CPU kernel (typed arrays, then offsets, then scalars) running `key`'s Wasm backend kernel. */
export function stagedKernel(backend: WasmBackend<KernelSpec>, key: string, spec: KernelSpec): CpuKernel {
  const kernel = backend.compile(key, () => spec);
  const dtypes = argDtypes(spec);
  const written = [...new Set(writtenArgs(spec))];
  const n = dtypes.length;
  return (...argv: (TypedArray | number)[]) => {
    const arrays = argv.slice(0, n) as TypedArray[];
    const staged = new Map<TypedArray, WasmBuffer>();
    try {
      arrays.forEach((array, a) => {
        if (staged.has(array)) return;
        const dtype: DType = dtypes[a]!;
        const buffer = backend.alloc(dtype, array.length);
        staged.set(array, buffer);
        backend.write(buffer, dtype, array);
      });
      const args = arrays.map((array, a) => ({ data: staged.get(array)!, offset: argv[n + a] as number }));
      backend.run([{ kernel, args, scalars: argv.slice(2 * n) as number[] }]);
      for (const a of written) {
        const array = arrays[a]!;
        array.set(backend.readSync(staged.get(array)!, dtypes[a]!, 0, array.length));
      }
    } finally {
      for (const buffer of staged.values()) backend.free(buffer);
    }
  };
}
