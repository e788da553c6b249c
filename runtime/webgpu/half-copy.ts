/// <reference types="@webgpu/types" />
/**
 * Copies of float16 elements that copyBufferToBuffer cannot do. WebGPU copies and
 * queue.writeBuffer move whole 4-byte words, so a range of 2-byte halves that starts at an
 * odd element, or ends at one, would drag its neighbour along; a shader copies those
 * element by element instead (a 16-bit store touches only its own element).
 */
import type { BufferRange, KernelLaunch } from './submit.js';

/** Invocations per workgroup of the copy shader. */
const WORKGROUP = 256;

/** The copy shader, fixed text: the source and destination element offsets and the count come as uniforms. */
export const HALF_COPY_WGSL = `enable f16;
@group(0) @binding(0) var<storage, read> src: array<f16>;
@group(0) @binding(1) var<storage, read_write> dst: array<f16>;
@group(0) @binding(2) var<uniform> u: vec4<u32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i < u.z) {
    dst[u.y + i] = src[u.x + i];
  }
}
`;

/** True when a copy of `length` halves at these element offsets moves whole 4-byte words only. */
export function wordAligned(srcOffset: number, dstOffset: number, length: number): boolean {
  return srcOffset % 2 === 0 && dstOffset % 2 === 0 && length % 2 === 0;
}

/** The launch copying `length` halves from `src` at element `srcOffset` to `dst` at `dstOffset`. */
export function halfCopyLaunch(
  pipeline: GPUComputePipeline, src: BufferRange, srcOffset: number, dst: BufferRange, dstOffset: number,
  length: number, maxWorkgroups: number,
): KernelLaunch {
  const groups = Math.ceil(length / WORKGROUP);
  const x = Math.min(groups, maxWorkgroups);
  return {
    pipeline,
    resources: [src, dst, Uint32Array.of(srcOffset, dstOffset, length, 0)],
    workgroups: [x, Math.ceil(groups / x), 1],
  };
}
