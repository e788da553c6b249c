/// <reference types="@webgpu/types" />
/** How a rendered shader's bindings are laid out and bound: one definition for every launch path. */
import { InternalError } from '../errors.js';
import type { BindingType } from './pipelines.js';
import type { BufferRange } from './submit.js';

/** One binding of a rendered shader's group 0. */
export type GpuBinding = { kind: 'storage'; arg: number; writable: boolean } | { kind: 'uniform' } | { kind: 'status' };

/** The pipeline layout entry of each binding (status buffers are written by the shader). */
export function bindingTypes(bindings: readonly GpuBinding[]): BindingType[] {
  return bindings.map((b): BindingType => {
    switch (b.kind) {
      case 'uniform': return 'uniform';
      case 'status': return 'storage';
      case 'storage': return b.writable ? 'storage' : 'read-only-storage';
      default: return unreachable(b);
    }
  });
}

/**
 * The range bound for an arg of `length` elements of `bytes` bytes: whole 16-byte units (vec4
 * arrays need them, and binding sizes must be multiples of 4, which an odd count of halves is
 * not), at least one.
 */
export function argRange(buffer: GPUBuffer, length: number, bytes: 2 | 4): BufferRange {
  return { buffer, size: Math.min(buffer.size, Math.max(16, Math.ceil((length * bytes) / 16) * 16)) };
}

/** Binds each of `bindings` through `bind`, one case per kind, checked exhaustively. */
export function bindAll<R>(
  bindings: readonly GpuBinding[], bind: { uniform(): R; status(): R; storage(arg: number): R },
): R[] {
  return bindings.map((b) => {
    switch (b.kind) {
      case 'uniform': return bind.uniform();
      case 'status': return bind.status();
      case 'storage': return bind.storage(b.arg);
      default: return unreachable(b);
    }
  });
}

function unreachable(x: never): never {
  throw new InternalError(`webgpu: unexpected binding ${JSON.stringify(x)}`);
}
