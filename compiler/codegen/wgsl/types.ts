/** The shapes the WGSL renderer shares with its callers: device limits, options, bindings, launches. */
import type { GpuDType } from '../wgsl-prims.js';
import type { SymbolicSizes } from '../../sizes.js';

/** The device limits the renderer sizes workgroups and dispatches by (a subset of GPUSupportedLimits). */
export interface WgslLimits {
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

/** WebGPU's guaranteed minimum limits: kernels rendered for these run on every device. */
export const defaultWgslLimits: WgslLimits = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
};

/** Choices that shape a pipeline; all are part of its identity. */
export interface WgslOptions {
  /**
   * Every arg's element offset is a multiple of 4, so contiguous args may be read and
   * written as vec4 (the shader indexes vec4 arrays, so it cannot shift by a run-time
   * remainder). Map, reduce and row kernels; `dispatch` checks it.
   */
  alignedOffsets?: boolean;
  /**
   * The device is a CPU implementation (GPUAdapterInfo.isFallbackAdapter, e.g. lavapipe):
   * reduce and row kernels then spread rows for a CPU (see CPU_ROWS). A fact about the
   * device: webGpuBackend (compiler/backends.ts) sets it for every kernel it renders.
   */
  fallbackAdapter?: boolean;
  /**
   * Invocations per workgroup for map and random kernels (rounded down to a power of two;
   * default 256: fewer, larger workgroups cost less to schedule, measured 2x on lavapipe).
   */
  workgroupSize?: number;
  /**
   * Size slots of the spec read from uniform words (see compiler/sizes.ts); every kind
   * but loop kernels (whose values are single elements) has them.
   */
  sizes?: SymbolicSizes;
}

/** What one binding of a kernel holds. */
export type WgslBinding =
  | { kind: 'storage'; arg: number; dtype: GpuDType; writable: boolean }
  | { kind: 'uniform'; bytes: number }
  | { kind: 'status' };

/** One call's launch: workgroup counts and the uniform words (offsets, then scalars). */
export interface WgslDispatch {
  workgroups: [number, number, number];
  uniforms: Uint32Array;
}

/** A rendered kernel: the shader, how to bind it, and how to launch it for given offsets and scalars. */
export interface WgslKernel {
  code: string;
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Binding i of @group(0) is `bindings[i]`. */
  bindings: WgslBinding[];
  /** Elements each invocation handles along the last dim (4 when vectorized). */
  vectorWidth: 1 | 4;
  /** The launch for one call: every arg's element offset, then the scalar arguments (random: seed, stream offset). */
  dispatch(offsets: readonly number[], scalars?: readonly number[]): WgslDispatch;
}
