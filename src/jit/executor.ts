/**
 * What the replay interpreter (./interpreter.ts) and the loop runner need from a device:
 * run a fused step's kernels over tensors, make an output, bring a value to the device,
 * and copy or adopt a storage (the shadows of a replay that may still fail). One
 * implementation per device, each thin over that device's eager executor.
 */
import type { FusedStep } from '../../compiler/passes/fuse.js';
import type { DType } from '../../runtime/dtype.js';
import type { Device, Storage, Tensor } from '../tensor.js';

/** A copy of a storage's elements, and the tensor that keeps the copy's buffer alive (where tensors free buffers). */
export interface StorageCopy {
  storage: Storage;
  holder: Tensor | undefined;
}

/** A device as the replay interpreter sees it. */
export interface DeviceExecutor {
  readonly device: Device;
  /**
   * Binds `step`'s kernels to its operands (`outs` then `ins`, as the step lists them): the
   * call runs them. Binding builds the kernel calling convention (buffers, element offsets)
   * once, so a loop can call it every iteration.
   */
  bind(step: FusedStep, outs: readonly Tensor[], ins: readonly Tensor[]): () => void;
  /** Runs (or records) `step`'s kernels once: `bind` and call, without preparing for a second call. */
  run(step: FusedStep, outs: readonly Tensor[], ins: readonly Tensor[]): void;
  /**
   * Binds a copy of `src`'s elements into `dst` (same shape and dtype, both on this device):
   * the call records or runs it, so a loop can call it every iteration.
   */
  bindCopy(src: Tensor, dst: Tensor): () => void;
  /** A fresh contiguous tensor on this device, for a step's output. */
  empty(shape: number[], dtype: DType): Tensor;
  /** A new storage with `real`'s elements (recorded now, before any later write into `real`). */
  copyStorage(real: Storage, dtype: DType): StorageCopy;
  /** `real` takes `copy`'s elements; `copy` gets what `real` held, released with `copy.holder`. */
  adopt(real: Storage, copy: StorageCopy): void;
}
