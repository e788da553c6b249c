/**
 * Where each value of a compiled graph lives when it replays on WebGPU. The trace records
 * ops, not devices, so devices are inferred the way eager execution assigns them: inputs
 * are where their tensors are, a recorded move (`.to('webgpu')`, creation with
 * `device: 'webgpu'`) and an op without operands made on the GPU (an `iota` or a random draw
 * the trace marks with the device) are on the GPU, an op runs where its operands are (CPU
 * scalars follow the GPU), and other values made from JS (constants) start on the CPU unless
 * a GPU op reads more than one element of them, which eager code could only do on the GPU.
 */
import type { Node } from '../../compiler/ir/graph.js';
import { isPrim } from '../../compiler/ir/kinds.js';
import { isView } from '../../compiler/passes/pass.js';
import { sizeOf } from '../../compiler/ir/shape.js';
import type { Device, Tensor } from '../tensor.js';

/** True for the node a move to the GPU records: a copy whose params name the device. */
export function isMoveToGpu(n: Node): boolean {
  return n.op === 'copy' && n.params.device === 'webgpu';
}

/** True for an op without operands that eager code ran on the GPU (the trace names the device in its params). */
function madeOnGpu(n: Node): boolean {
  return (n.op === 'random' || n.op === 'iota') && n.params.device === 'webgpu';
}


/**
 * The device of every value (undefined for effects). `tensorOf(i)` is the tensor of an
 * argument or captured input node i (a gradient lives where its tensor does); `roots[i]` is
 * the node whose storage value i reads.
 */
export function valueDevices(nodes: readonly Node[], roots: readonly number[], tensorOf: (i: number) => Tensor | undefined): (Device | undefined)[] {
  // 'free': made from JS values only, so far; placed by its readers below.
  const devices: (Device | 'free' | undefined)[] = [];
  nodes.forEach((n, i) => {
    if (n.op === 'input') {
      const { source } = n.params;
      devices[i] = source.kind === 'grad' ? devices[source.of] : tensorOf(i)!.device;
    } else if (n.op === 'constant') {
      devices[i] = 'free';
    } else if (isMoveToGpu(n) || madeOnGpu(n)) {
      devices[i] = 'webgpu';
    } else if (isPrim(n.op) || n.op === 'loop' || n.op === 'loopResult') {
      // A lifted loop runs where its operands live; its results live with it.
      const from = n.inputs.map((x) => devices[x]);
      devices[i] = from.includes('webgpu') ? 'webgpu' : from.includes('cpu') ? 'cpu' : 'free';
    }
  });
  // Readers come after what they read, so one backward sweep carries placements up chains.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const onGpu = devices[i] === 'webgpu' || (n.op === 'write' && devices[n.inputs[0]!] === 'webgpu');
    if (!onGpu || isMoveToGpu(n) || n.op === 'observe' || n.op === 'setGrad') continue;
    for (const x of n.inputs) {
      // A one-element value is a CPU scalar that the GPU op reads as such; a view goes with its base.
      if (devices[x] === 'free' && (isView(n) || sizeOf(nodes[roots[x] ?? x]!.shape) > 1)) devices[x] = 'webgpu';
    }
  }
  return devices.map((d) => (d === 'free' ? 'cpu' : d));
}
