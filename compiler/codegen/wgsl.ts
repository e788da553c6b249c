/**
 * Renders kernel specs as WGSL compute shaders, with the JavaScript renderer's semantics
 * (compiler/codegen/js.ts) in float32. Every token of the generated text comes from the
 * spec's validated integers, its dtype and primitive names (looked up in fixed tables),
 * and the fixed vocabulary below; no user string ever reaches a shader.
 *
 * Binding layout of every kernel, in @group(0):
 *   - binding a (a = 0 .. args-1): arg a's storage buffer, an array of f16 / f32 / i32 / u32
 *     (float16 is stored as f16 and computed in f32 registers; its modules `enable f16;`).
 *     bool is stored one u32 (0 or 1) per element: WGSL storage has no 8-bit type, so
 *     uploads widen a Uint8Array and readbacks narrow it again.
 *   - binding `args`: a uniform array of u32 words: every arg's element offset, then the
 *     scalar arguments converted to the dtype they are used as (the same conversion as
 *     the JS renderer's renderCast from float64). Offsets and scalars stay run-time values
 *     so that slices and constants share one pipeline, as on the CPU.
 *   - binding `args + 1`, only for kernels that gather or scatter: four atomic u32 words
 *     recording the first out-of-range index (kind, index, size), since a shader cannot throw.
 *
 * float64 has no WGSL type: specs that use it are rejected with a DTypeError naming it.
 */
import { InternalError } from '../../runtime/errors.js';
import { jsHelpers } from './js-helpers.js';
import type { KernelSpec } from '../kernel.js';
import { STATUS_GATHER, STATUS_LOOP, STATUS_SCATTER } from './wgsl/common.js';
import { renderLoop } from './wgsl/loop.js';
import { renderMap } from './wgsl/map.js';
import { renderMatmul } from './wgsl/matmul.js';
import { renderRandom } from './wgsl/random.js';
import { renderReduce, renderRow } from './wgsl/rows.js';
import { defaultWgslLimits, type WgslKernel, type WgslLimits, type WgslOptions } from './wgsl/types.js';

export { STATUS_BYTES } from './wgsl/common.js';
export {
  defaultWgslLimits, type WgslBinding, type WgslDispatch, type WgslKernel, type WgslLimits, type WgslOptions,
} from './wgsl/types.js';

/** Renders a kernel spec as a WGSL compute shader sized for `limits`. */
export function renderWgsl(spec: KernelSpec, limits: WgslLimits = defaultWgslLimits, options: WgslOptions = {}): WgslKernel {
  switch (spec.kind) {
    case 'map': return renderMap(spec, limits, options);
    case 'reduce': return renderReduce(spec, limits, options);
    case 'row': return renderRow(spec, limits, options);
    case 'matmul': return renderMatmul(spec, limits, options);
    case 'random': return renderRandom(spec, limits, options);
    case 'loop': return renderLoop(spec);
    // Merged kernels have no single shader: their parts render and dispatch one after another in a batch.
    case 'multi': throw new InternalError('wgsl: no WGSL rendering for multi kernels');
    default: {
      const unreachable: never = spec;
      throw new InternalError(`wgsl: unknown kernel kind ${(unreachable as { kind: string }).kind}`);
    }
  }
}

/** Throws the error the CPU kernel would have thrown, from a kernel's status words; returns when they record none. */
export function throwStatus(words: Uint32Array): void {
  const kind = words[0]!;
  if (kind === 0) return;
  const index = words[1]! | 0;
  const size = words[2]!;
  if (kind === STATUS_GATHER) jsHelpers.indexError(index, size);
  if (kind === STATUS_SCATTER) jsHelpers.scatterIndexError(index, size);
  if (kind === STATUS_LOOP) jsHelpers.loopCapError(size);
  throw new InternalError(`wgsl: unknown status word ${kind}`);
}

