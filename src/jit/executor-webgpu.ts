/**
 * The WebGPU device executor: fused steps are recorded as WGSL launches into the device's
 * open command batch (src/webgpu.ts's eager executor), storages are pooled GPU buffers.
 */
import { executePrim } from '../../compiler/execute.js';
import { sizeOf } from '../../compiler/ir/shape.js';
import { gpuLaunches, type GpuLaunch } from '../../compiler/passes/gpu-launches.js';
import type { FusedStep } from '../../compiler/passes/fuse.js';
import type { DType, TypedArray } from '../../runtime/dtype.js';
import { gpuEmpty, gpuOperand, uploadGpuStorage } from '../device.js';
import { copyOfStorage, storageLength, swapBuffers, type Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { eagerGpu } from '../webgpu.js';
import type { DeviceExecutor, StorageCopy } from './executor.js';

const launchesOfStep = new WeakMap<FusedStep, GpuLaunch[]>();

/** The launches that run `step` on the GPU (a merged kernel launches each of its parts), made once per step. */
export function launchesOf(step: FusedStep): GpuLaunch[] {
  let launches = launchesOfStep.get(step);
  if (launches === undefined) launchesOfStep.set(step, (launches = gpuLaunches(step)));
  return launches;
}

/** A tensor over all of storage `s`. */
function wholeStorage(s: Storage, dtype: DType): Tensor {
  const n = storageLength(s);
  return new Tensor(s, [n], [1], 0, dtype);
}

/** The WebGPU executor (the device must be initialized before any of its calls). */
export const webGpuExecutor = {
  device: 'webgpu',
  bind(step: FusedStep, outs: readonly Tensor[], ins: readonly Tensor[]): () => void {
    const gpu = eagerGpu();
    const launches = launchesOf(step);
    const operands = [...outs, ...ins].map(gpuOperand);
    const batch = launches.map((l) => ({
      kernel: gpu.compile(l.key, () => l.spec), args: l.operands.map((a) => operands[a]!), scalars: [],
    }));
    return () => {
      for (const launch of batch) gpu.run([launch]);
    };
  },
  run(step: FusedStep, outs: readonly Tensor[], ins: readonly Tensor[]): void {
    webGpuExecutor.bind(step, outs, ins)();
  },
  bindCopy(src: Tensor, dst: Tensor): () => void {
    const gpu = eagerGpu();
    const from = gpuOperand(src), to = gpuOperand(dst), n = sizeOf(dst.shape);
    if (src.isContiguous && dst.isContiguous) return () => gpu.copy(from.data, from.offset, to.data, to.offset, n);
    return () => executePrim(gpu, 'copy', {}, [from], to);
  },
  empty: (shape: number[], dtype: DType) => gpuEmpty('jit', shape, dtype),
  copyStorage(real: Storage, dtype: DType): StorageCopy {
    const holder = wholeStorage(copyOfStorage(real, dtype, storageLength(real)), dtype);
    return { storage: holder.storage, holder };
  },
  adopt(real: Storage, copy: StorageCopy): void {
    if ((real.refs ?? 0) === 0) {
      // Every tensor over the real storage was disposed meanwhile (its buffer is back in the pool): nothing to update.
      copy.holder!.dispose();
      return;
    }
    // Swapped, not copied: the copy keeps the old buffer and releases it with its holder.
    swapBuffers(real, copy.storage);
    copy.holder!.dispose();
  },
  /** A tensor over an upload of the CPU elements `data`. */
  upload: (data: TypedArray, dtype: DType): Tensor => wholeStorage(uploadGpuStorage(data, dtype), dtype),
} satisfies DeviceExecutor & { upload(data: TypedArray, dtype: DType): Tensor };
