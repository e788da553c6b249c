/**
 * `apply`: the one place where a primitive runs. Eager execution lowers it as a one-node
 * graph through the same codegen the JIT uses; autograd's tape and the observers (the tracer)
 * see every application here, so nothing is recorded twice or missed.
 */
import type { DType } from '../runtime/dtype.js';
import { DeviceError, InternalError, ValueError, fmtShape } from '../runtime/errors.js';
import { executePrim, type Operand } from '../compiler/execute.js';
import { tensorCpu, type CpuBuffer } from '../compiler/backends.js';
import { inferMeta, viewLayout } from '../compiler/ir/infer.js';
import { primitiveRules, type Params, type Prim } from '../compiler/ir/primitives.js';
import { contiguousStrides, sizeOf } from '../compiler/ir/shape.js';
import { Tensor, type Device } from './tensor.js';
import { cpuStorage, onCpu } from './storage.js';
import { executeGpu, gpuEmpty, isCpuScalar } from './device.js';
import { recordGradient } from './autograd/node.js';
import { applied, written } from './observers.js';
import { ScopedValue } from './scoped-value.js';

// The notifications ops, nn and optim send, from the module they take `apply` from.
export {
  observeApply, activeObservers, created, stateWritten, stateObjectMade, type Observer, type ConstantSource,
} from './observers.js';

/** The kernel-argument view of a CPU tensor. */
export function operand(t: Tensor): Operand<CpuBuffer> {
  return { data: onCpu(t.storage, 'operand').buffer, dtype: t.dtype, shape: t.shape, strides: t.strides, offset: t.offset };
}

/** A fresh contiguous CPU tensor whose elements are zero (an op's output, not yet seen by observers). */
export function empty(shape: number[], dtype: DType): Tensor {
  return new Tensor(cpuStorage(dtype, sizeOf(shape)), shape, contiguousStrides(shape), 0, dtype);
}

const nullaryDevice = new ScopedValue<Device>('cpu');

/** Runs `fn` with primitives that take no tensor operands (random, iota) producing on `device`. */
export function onDevice<T>(device: Device, fn: () => T): T {
  return nullaryDevice.run(device, fn);
}

function disposedError(prim: string): ValueError {
  return new ValueError(`${prim}: an operand was disposed (dispose(), or the end of its tidy scope); keep it out of the scope or create it again`);
}

/** The device `prim` runs on: its operands' (CPU scalars follow the others, as in PyTorch). */
function deviceOf(prim: string, inputs: readonly Tensor[]): Device {
  if (inputs.length === 0) return nullaryDevice.value;
  const device = inputs[0]!.device;
  let mixed = false;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    if (x.isDisposed) throw disposedError(prim);
    if (x.device !== device) mixed = true;
  }
  if (!mixed) return device;
  const other = inputs.find((x) => x.device !== 'cpu')!.device;
  if (inputs.every((x) => x.device === other || isCpuScalar(x))) return other;
  throw new DeviceError(`${prim}: operands are on different devices (${inputs.map((t) => t.device).join(', ')}); move them with .to(device) first (webgpu to cpu: await t.cpu())`);
}

/** Applies primitive `prim`: checks operands, runs it (or makes the view), tells observers. */
export function apply<P extends Prim>(prim: P, inputs: readonly Tensor[], params: Params<P>): Tensor {
  const device = deviceOf(prim, inputs);
  const meta = inferMeta(prim, inputs, params);
  let out: Tensor;
  if (primitiveRules[prim].kind === 'view') {
    const x = inputs[0]!;
    const layout = viewLayout(prim, x, params);
    if (layout === null) throw new InternalError(`${prim}: ${fmtShape(x.shape)} cannot be viewed as ${fmtShape(meta.shape)}`);
    out = new Tensor(x.storage, layout.shape, layout.strides, layout.offset, x.dtype);
    out.viewBase = x.viewBase ?? x;
  } else if (device === 'cpu') {
    // Every primitive's kernel writes each element of its output (scatter-add copies its base
    // first, pad fills before it copies), so the block is not zero-filled.
    const shape = meta.shape.slice();
    out = new Tensor(cpuStorage(meta.dtype, sizeOf(shape), true), shape, contiguousStrides(shape), 0, meta.dtype);
    executePrim(tensorCpu, prim, params, inputs.map(operand), operand(out));
  } else {
    out = gpuEmpty(prim, meta.shape.slice(), meta.dtype);
    executeGpu(prim, params, inputs, out);
  }
  recordGradient(prim, inputs, params, out);
  applied(prim, inputs, params, out);
  return out;
}

/** True when the written elements of `t` could be read back through another index of `t`. */
function hasInternalOverlap(t: Tensor): boolean {
  // Without elements nothing overlaps: contiguous strides of [2, 0] are [0, 1].
  return !t.shape.includes(0) && t.shape.some((d, i) => d > 1 && t.strides[i] === 0);
}

/**
 * Writes `value` (same shape; cast to target's dtype) into `target`'s elements in place.
 * The value is a computed tensor, so reading and writing one storage never interleave.
 */
export function writeInto(op: string, target: Tensor, value: Tensor): void {
  if (hasInternalOverlap(target)) {
    throw new ValueError(`${op}: the target ${fmtShape(target.shape)} has dims of stride 0 (an expanded view), so several of its elements share one memory location; write to a .clone() instead`);
  }
  if (target.isDisposed || value.isDisposed) throw disposedError(op);
  const prim = value.dtype === target.dtype ? 'copy' : 'cast';
  if (target.device !== 'cpu' || value.device !== 'cpu') {
    if (value.device !== target.device && !(target.device !== 'cpu' && isCpuScalar(value))) {
      throw new DeviceError(`${op}: the target is on ${target.device} and the value on ${value.device}; move the value with .to('${target.device}') first`);
    }
    let src = value;
    if (value.storage === target.storage) {
      src = gpuEmpty(op, value.shape.slice(), value.dtype);
      executeGpu('copy', {}, [value], src);
    }
    executeGpu(prim, { dtype: target.dtype }, [src], target);
    if (src !== value) src.dispose();
  } else {
    const src = value.storage === target.storage ? copyOf(value) : value;
    executePrim(tensorCpu, prim, { dtype: target.dtype }, [operand(src)], operand(target));
  }
  target.storage.version++;
  written(target, value);
}

function copyOf(t: Tensor): Tensor {
  const out = empty(t.shape.slice(), t.dtype);
  executePrim(tensorCpu, 'copy', {}, [operand(t)], operand(out));
  return out;
}
