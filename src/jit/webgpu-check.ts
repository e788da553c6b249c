/**
 * Which recorded variants replay on WebGPU, and why some cannot. A WebGPU replay records
 * its kernels without waiting for the GPU. Number comparisons, `.grad` checks and values of
 * CPU inputs (an optimizer's hyper-parameters) are decided on the host before the first
 * kernel is recorded; values computed by the graph can only be checked after it ran, which
 * an async function's replay does (speculatively, see ./speculation.ts) and a synchronous
 * function's cannot: its result is due before any readback.
 */
import type { Node } from '../../compiler/ir/graph.js';
import { isViewNode, paramsOf } from '../../compiler/ir/node-params.js';
import { isPrim } from '../../compiler/ir/kinds.js';
import type { Tensor } from '../tensor.js';
import { isMoveToGpu, valueDevices } from './devices.js';
import { planDeviceLoop } from './loop-device.js';
import type { Variant } from './variant.js';

const NODE_OPS = new Set(['input', 'constant', 'write', 'observe', 'setGrad', 'loop', 'loopResult']);

const onWebGpu = new WeakMap<Variant, boolean>();

/** True when `v` replays on WebGPU: a tensor it reads lives there, or it moves values there. */
export function usesWebGpu(v: Variant): boolean {
  let gpu = onWebGpu.get(v);
  if (gpu === undefined) {
    const t = v.trace;
    gpu = t.args.some((x) => x.device === 'webgpu') || t.captures.some((x) => x.device === 'webgpu') || t.graph.nodes.some(isMoveToGpu);
    onWebGpu.set(v, gpu);
  }
  return gpu;
}

/**
 * The input node whose CPU tensor observe node `o` reads (through views only), when no
 * write into that storage comes before the read: its values can be checked before the
 * replay runs anything. Undefined for any other observed value.
 */
export function hostReadInput(nodes: readonly Node[], roots: readonly number[], o: number, tensorOf: (i: number) => Tensor | undefined): number | undefined {
  let x = nodes[o]!.inputs[0]!;
  while (isViewNode(nodes[x]!)) x = nodes[x]!.inputs[0]!;
  if (nodes[x]!.op !== 'input' || tensorOf(x)?.device !== 'cpu') return undefined;
  const root = roots[x] ?? x;
  for (let w = 0; w < o; w++) if (nodes[w]!.op === 'write' && (roots[nodes[w]!.inputs[0]!] ?? nodes[w]!.inputs[0]) === root) return undefined;
  return x;
}

/** Why variant `v` (on WebGPU) must run eagerly instead, or undefined when it can replay there. */
export function webGpuObstacle(v: Variant): string | undefined {
  const t = v.trace;
  const nodes = t.graph.nodes;
  const big = [...t.args.map((x, i) => [x, `argument tensor ${i + 1}`] as const), ...t.captures.map((x) => [x, 'a captured tensor'] as const)]
    .find(([x]) => x.device === 'cpu' && x.size !== 1);
  if (big !== undefined) {
    return `it mixes WebGPU tensors with ${big[1]}, a CPU tensor of shape [${big[0].shape}]; a compiled graph runs on one device, with CPU scalars as the only exception (as in eager ops); move it with .to('webgpu')`;
  }
  const tensorOf = (i: number): Tensor | undefined => {
    const { source } = paramsOf(nodes[i]!, 'input', 'jit webgpu');
    return source.kind === 'arg' ? t.args[source.slot] : source.kind === 'capture' ? t.captures[source.slot] : undefined;
  };
  const loops = nodes.flatMap((n, i) => (n.op === 'loop' ? [{ i, p: n.params }] : []));
  // A lifted loop replays on WebGPU as one loop kernel over WebGPU values (./loop-device.ts).
  const devices = loops.length > 0 ? valueDevices(nodes, t.roots, tensorOf) : [];
  // A loop that does not fit one kernel runs host-driven, in an async function only (./loop-async.ts).
  let hostLoop: string | undefined;
  for (const { i, p } of loops) {
    if (devices[i] !== 'webgpu') return `its loop at ${p.site} runs on CPU tensors, and a WebGPU replay runs loops on the GPU`;
    const plan = planDeviceLoop(p);
    if (plan.kind === 'none' && !t.isAsync) {
      return `its loop at ${p.site} does not fit one WGSL kernel (${plan.reason})`;
    }
    if (plan.kind === 'none') hostLoop ??= p.site;
  }
  const other = nodes.find((n) => !isPrim(n.op) && !NODE_OPS.has(n.op));
  if (other !== undefined) return `its graph has a ${other.op} node, which WebGPU replays do not run`;
  for (let o = 0; o < nodes.length; o++) {
    const n = nodes[o]!;
    if (n.op !== 'observe' || n.params.numberCompare !== undefined || n.params.gradNull) continue;
    if (hostReadInput(nodes, t.roots, o, tensorOf) !== undefined) continue;
    if (hostLoop !== undefined) {
      return `its loop at ${hostLoop} runs host-driven, and it also reads tensor values (${n.params.how} at `
        + `${n.params.site}) that a replay could check only speculatively, which a host-driven loop does not support; `
        + 'read them after the call';
    }
    if (t.isAsync) continue;
    return `it reads tensor values (${n.params.how} at ${n.params.site}) that a replay on WebGPU could check only by waiting for the GPU, which a synchronous function cannot do; ` +
      'make it an async function that reads them with the async readers (await t.itemAsync(), t.dataAsync()), whose replays check such reads in one readback, ' +
      'or return the tensor, read it after the call and branch outside the jit\'d function';
  }
  return undefined;
}
