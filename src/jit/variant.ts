/** A compiled variant: one recorded path through the function, and how to rebuild its result. */
import { printGraph, type Node } from '../../compiler/ir/graph.js';
import { formatParamsExact } from '../../compiler/ir/text.js';
import { Tensor } from '../tensor.js';
import type { Guard, Trace } from './trace.js';
import type { Graph } from '../../compiler/ir/graph.js';
import type { PassReport } from '../../compiler/passes/pipeline.js';
import type { FusionPlan } from '../../compiler/passes/fuse.js';
import type { DeviceLoop } from './loop-device.js';
import type { HostLoop } from './loop-host.js';
import type { LoopRunner } from './loop-run.js';

/** The shape of a function's result, with tensors replaced by the nodes that define them. */
export type OutputSpec =
  | { kind: 'tensor'; node: number }
  | { kind: 'value'; value: unknown }
  | { kind: 'array'; items: OutputSpec[] }
  | { kind: 'object'; entries: [string, OutputSpec][] };

/**
 * What a replay runs: the recorded graph after the optimizer's passes, with every
 * node-indexed fact (guards, grad modes, storage roots, results) renumbered to match.
 */
export interface Program {
  graph: Graph;
  gradModes: boolean[];
  captures: readonly Tensor[];
  guards: Guard[];
  writtenRoots: Set<number>;
  roots: number[];
  randomCount: number;
  output: OutputSpec;
  /** What each pass changed, for explain(). */
  reports: PassReport[];
}

/** A recorded path, ready to replay. */
export interface Variant {
  trace: Trace;
  output: OutputSpec;
  /** Whether any output tensor carried autograd history when traced. */
  outputsRequireGrad: boolean;
  /** Materialized constants by node, reused across replays (copy-on-write if written). */
  constants: (Tensor | undefined)[];
  /** Text that is equal for two traces exactly when they recorded the same computation. */
  fingerprint: string;
  /** The optimized graph, made on the first replay. */
  program?: Program;
  /** Kernels of the compiled graph, planned on the first replay. */
  plan?: FusionPlan;
  /** Intermediate buffers kept with the compiled graph (see FusionPlan.persistent). */
  buffers: (Tensor | undefined)[];
  /** Lifted loops of the program, by node, made on their first run. */
  loops: Map<number, LoopRunner | DeviceLoop | HostLoop>;
}

/** Describes a result; tensors the trace never saw become captured inputs. */
function describe(value: unknown, trace: Trace): OutputSpec {
  if (value instanceof Tensor) return { kind: 'tensor', node: trace.idOf(value) };
  if (Array.isArray(value)) return { kind: 'array', items: value.map((v) => describe(v, trace)) };
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return { kind: 'object', entries: Object.entries(value).map(([k, v]) => [k, describe(v, trace)]) };
  }
  return { kind: 'value', value };
}

function anyGrad(spec: OutputSpec, value: unknown): boolean {
  switch (spec.kind) {
    case 'tensor': return (value as Tensor).requiresGrad;
    case 'array': return spec.items.some((s, i) => anyGrad(s, (value as unknown[])[i]));
    case 'object': return spec.entries.some(([k, s]) => anyGrad(s, (value as Record<string, unknown>)[k]));
    case 'value': return false;
  }
}

const captureIds = new WeakMap<Tensor, number>();
let nextCaptureId = 0;
function captureId(t: Tensor): number {
  let id = captureIds.get(t);
  if (id === undefined) captureIds.set(t, (id = nextCaptureId++));
  return id;
}

function constantData(n: Node): string {
  // A loop's graphs print shortened too: they are part of its parameters.
  if (n.op === 'loop') return formatParamsExact(n.params);
  if (n.op !== 'constant') return '';
  const { data, value } = n.params;
  // printGraph writes -0 as 0: x * -0 and x * 0 are different recordings.
  if (data === undefined) return Object.is(value, -0) ? '-0' : '';
  return Array.from(data, (x) => (Object.is(x, -0) ? '-0' : String(x))).join(',');
}

/** Finishes a trace: describes the result and fingerprints the recording. */
export function makeVariant(trace: Trace, result: unknown): Variant {
  const output = describe(result, trace);
  const fingerprint = [
    printGraph(trace.graph),
    `captures ${trace.captures.map(captureId).join(',')}`,
    `grad modes ${trace.gradModes.map((m) => (m ? 1 : 0)).join('')}`,
    `random ${trace.randomCount}`,
    // The printed graph shortens long data; traces are equal only if all of it is.
    `data ${trace.graph.nodes.map((n) => constantData(n)).join(';')}`,
    `output ${JSON.stringify(output, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}`,
  ].join('\n');
  return { trace, output, outputsRequireGrad: anyGrad(output, result), constants: [], buffers: [], loops: new Map(), fingerprint };
}
