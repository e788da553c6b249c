/**
 * The CPU device executor: fused steps run as generated JavaScript (compiler/execute.ts's
 * cpuKernel), storages are typed arrays.
 */
import { cpu } from '../../compiler/backends.js';
import { cpuKernel, executePrim } from '../../compiler/execute.js';
import type { Params, Prim } from '../../compiler/ir/primitives.js';
import { sizeOf } from '../../compiler/ir/shape.js';
import type { FusedStep } from '../../compiler/passes/fuse.js';
import type { TypedArray } from '../../runtime/dtype.js';
import { empty, operand } from '../dispatch.js';
import { copyOfStorage, onCpu, storageLength, swapBuffers } from '../storage.js';
import type { Tensor } from '../tensor.js';
import type { DeviceExecutor } from './executor.js';
import { forNodes } from './log.js';

/** The CPU executor. */
export const cpuExecutor: DeviceExecutor = {
  device: 'cpu',
  bind(step: FusedStep, outs: readonly Tensor[], ins: readonly Tensor[]): () => void {
    // The calling convention of generated CPU kernels: every arg's elements, then every arg's element offset.
    const argv: (TypedArray | number)[] = [];
    for (const t of outs) argv.push(onCpu(t.storage, 'jit').buffer);
    for (const t of ins) argv.push(onCpu(t.storage, 'jit').buffer);
    for (const t of outs) argv.push(t.offset);
    for (const t of ins) argv.push(t.offset);
    const kernel = forNodes(step.nodes, () => cpuKernel({ key: step.key, build: () => step.spec }));
    return () => kernel.apply(undefined, argv);
  },
  bindCopy(src, dst) {
    const n = sizeOf(dst.shape);
    if (src.isContiguous && dst.isContiguous) {
      const from = onCpu(src.storage, 'jit'), to = onCpu(dst.storage, 'jit'), at = src.offset, into = dst.offset;
      return () => cpu.copy(from.buffer, at, to.buffer, into, n);
    }
    return bindPrim('copy', {}, [src], dst);
  },
  empty,
  copyStorage: (real, dtype) => ({ storage: copyOfStorage(real, dtype, storageLength(real)), holder: undefined }),
  adopt(real, copy) {
    swapBuffers(real, copy.storage);
  },
};

/** A call that computes primitive `prim` of `ins` into `out` (CPU tensors), its operands built once. */
export function bindPrim<P extends Prim>(prim: P, params: Params<P>, ins: readonly Tensor[], out: Tensor): () => void {
  const operands = ins.map(operand), o = operand(out);
  return () => executePrim(cpu, prim, params, operands, o);
}
