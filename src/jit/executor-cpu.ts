/**
 * The CPU device executor: fused steps run on the CPU engine's backend (Wasm modules over
 * the Wasm memory by default, generated JavaScript over typed arrays under KILN_CPU=js),
 * the same kernel per spec as eager ops.
 */
import { tensorCpu, type CpuBuffer, type CpuEngineKernel } from '../../compiler/backends.js';
import { executePrim } from '../../compiler/execute.js';
import type { Params, Prim } from '../../compiler/ir/primitives.js';
import { contiguousStrides, sizeOf } from '../../compiler/ir/shape.js';
import type { FusedStep } from '../../compiler/passes/fuse.js';
import type { KernelArg, Launch } from '../../runtime/backend.js';
import type { DType } from '../../runtime/dtype.js';
import { operand } from '../dispatch.js';
import { copyOfStorage, cpuStorage, freeStorage, onCpu, storageLength, swapBuffers, type Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import type { DeviceExecutor, StorageCopy } from './executor.js';
import { forNodes } from './log.js';

const NO_SCALARS: readonly number[] = [];

/** A CPU tensor as a kernel argument: its buffer and the element offset of its view. */
function cpuArg(t: Tensor): KernelArg<CpuBuffer> {
  return { data: onCpu(t.storage, 'jit').buffer, offset: t.offset };
}

/** The launch of `step`'s kernel: its outputs, then its inputs, each a buffer and an element offset. */
function launchOf(step: FusedStep, outs: readonly Tensor[], ins: readonly Tensor[]): Launch<CpuBuffer, CpuEngineKernel> {
  const args = new Array<KernelArg<CpuBuffer>>(outs.length + ins.length);
  for (let i = 0; i < outs.length; i++) args[i] = cpuArg(outs[i]!);
  for (let i = 0; i < ins.length; i++) args[outs.length + i] = cpuArg(ins[i]!);
  const kernel = forNodes(step.nodes, () => tensorCpu.compile(step.key, () => step.spec));
  return { kernel, args, scalars: NO_SCALARS };
}

/** The CPU executor. */
export const cpuExecutor: DeviceExecutor = {
  device: 'cpu',
  bind: (step, outs, ins) => tensorCpu.bind([launchOf(step, outs, ins)]),
  run: (step, outs, ins) => tensorCpu.run([launchOf(step, outs, ins)]),
  bindCopy(src, dst) {
    const n = sizeOf(dst.shape);
    if (src.isContiguous && dst.isContiguous) {
      const from = onCpu(src.storage, 'jit'), to = onCpu(dst.storage, 'jit'), at = src.offset, into = dst.offset;
      return tensorCpu.bindCopy(from.buffer, at, to.buffer, into, n);
    }
    return bindPrim('copy', {}, [src], dst);
  },
  // Not zero-filled: a step's kernel writes every element of its outputs (executePrim and
  // every fused kernel store whole outputs), and the interpreter hands out no other buffer.
  empty: (shape, dtype) =>
    new Tensor(cpuStorage(dtype, sizeOf(shape), true), shape, contiguousStrides(shape), 0, dtype),
  // No holder: the copy is given back by adopt or discardCopy, or by the last tensor made over it.
  copyStorage: (real: Storage, dtype: DType): StorageCopy =>
    ({ storage: copyOfStorage(real, dtype, storageLength(real)), holder: undefined }),
  adopt(real, copy) {
    // Every tensor over the real storage was disposed meanwhile (its buffer is given back): nothing to update.
    if ((real.refs ?? 0) > 0) swapBuffers(real, copy.storage);
    // Swapped, not copied: the copy now holds the old buffer and gives it back.
    freeStorage(copy.storage);
  },
};

/** A call that computes primitive `prim` of `ins` into `out` (CPU tensors), its operands built once. */
export function bindPrim<P extends Prim>(prim: P, params: Params<P>, ins: readonly Tensor[], out: Tensor): () => void {
  const operands = ins.map(operand), o = operand(out);
  return () => executePrim(tensorCpu, prim, params, operands, o);
}
