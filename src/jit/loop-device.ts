/**
 * Lifted loops on WebGPU. A loop node whose condition and body are elementwise over one
 * element (the seed loop, a scalar Newton iteration) runs as one kernel with the loop
 * inside (compiler/loop-kernel.ts, rendered by compiler/codegen/wgsl.ts): one launch
 * per call, whatever the trip count, and nothing read back, so a synchronous function's
 * replay returns at once with its results still on the GPU.
 *
 * A loop that does not fit one kernel (a matmul or a reduction in it, loop variables of
 * many elements) needs its condition on the host: in an async function it runs host-driven
 * with batched condition readbacks (./loop-host.ts); a synchronous function cannot wait for
 * a readback, and its trace says so (./loop-symbolic.ts).
 */
import { loopKernelSpec } from '../../compiler/loop-kernel.js';
import type { EffectParams } from '../../compiler/ir/graph.js';
import { specKey, type LoopSpec } from '../../compiler/kernel.js';
import { renderWgsl } from '../../compiler/codegen/wgsl.js';
import type { DType } from '../../runtime/dtype.js';
import { gpuEmpty, gpuOperand, toGpu } from '../device.js';
import type { Tensor } from '../tensor.js';
import { eagerGpu } from '../webgpu.js';

/** How a lifted loop runs on WebGPU: as one kernel, or why it cannot. */
export type DeviceLoopPlan = { kind: 'kernel'; spec: LoopSpec } | { kind: 'none'; reason: string };

/** The loop's operand dtypes: the loop variables', then the invariants' (the condition graph's inputs). */
function operandDtypes(p: EffectParams['loop']): DType[] {
  return p.cond.nodes.filter((n) => n.op === 'input').map((n) => n.dtype);
}

/** Whether loop node `p` runs on WebGPU as one kernel, and if not, why. */
export function planDeviceLoop(p: EffectParams['loop']): DeviceLoopPlan {
  const spec = loopKernelSpec(p, operandDtypes(p));
  return 'reason' in spec ? { kind: 'none', reason: spec.reason } : { kind: 'kernel', spec };
}

/** What explain() says about a loop that runs on WebGPU as one kernel. */
export const KERNEL_LOOP_NOTE = 'on WebGPU it runs as one WGSL kernel with the loop inside (its condition and body are '
  + 'elementwise over one element): one launch per call, no readback';

/** A loop node of a WebGPU variant that runs as one kernel; made on the variant's first replay. */
export class DeviceLoop {
  readonly #key: string;
  readonly #shapes: number[][];

  constructor(readonly params: EffectParams['loop'], readonly spec: LoopSpec) {
    this.#key = `loop|${specKey(spec)}`;
    const inputs = params.cond.nodes.filter((n) => n.op === 'input');
    this.#shapes = inputs.slice(0, params.carried).map((n) => n.shape.slice());
  }

  /** The kernel's WGSL (for explain()). */
  get source(): string {
    return renderWgsl(this.spec).code;
  }

  /**
   * Records the loop's one launch from `operands` (first values of the loop variables, then
   * the invariants; CPU scalars are uploaded): the final values and the iteration count, on the GPU.
   */
  run(operands: readonly Tensor[], numbers: readonly number[]): { results: Tensor[]; iterations: Tensor } {
    const gpu = eagerGpu();
    const results = this.#shapes.map((shape, j) => gpuEmpty('jit', shape, this.spec.dtypes[j]!));
    const iterations = gpuEmpty('jit', [], 'int32');
    const ins = operands.map((t) => (t.device === 'webgpu' ? t : toGpu(t)));
    const kernel = gpu.compile(this.#key, () => this.spec);
    gpu.run([{ kernel, args: [...results, iterations, ...ins].map(gpuOperand), scalars: numbers }]);
    for (let k = 0; k < ins.length; k++) if (ins[k] !== operands[k]) ins[k]!.dispose();
    return { results, iterations };
  }
}
