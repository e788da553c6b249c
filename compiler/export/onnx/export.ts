/**
 * A graph as an ONNX model (opset 18): argument inputs become graph inputs, captured tensors
 * initializers (or inputs, for weights kept apart as safetensors), a lifted loop an ONNX
 * `Loop`, and every primitive the operators its entry of `onnxRules` names. Anything with
 * no ONNX meaning (in-place writes, gradients, values read by JS, random draws) is refused
 * with an error naming it.
 */
import { valuesOf } from '../../../runtime/stored.js';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
import type { DType } from '../../../runtime/dtype.js';
import { KilnError, fmtShape } from '../../../runtime/errors.js';
import type { Graph, Node, NodeOf } from '../../ir/graph.js';
import { ONNX_TYPE, OnnxBuilder, tensorProto, valueInfo } from './builder.js';
import { onnxRuleOf } from './prims.js';

/** A graph that cannot be written as ONNX: names the node and what would be valid. */
export class OnnxExportError extends KilnError {
  override name = 'OnnxExportError';
}

/** The opset the exported models import. */
export const ONNX_OPSET = 18;

/** What to export: an optimized graph and what its inputs and outputs stand for. */
export interface OnnxModelSpec {
  graph: Graph;
  /** Output nodes, in order. */
  outputs: readonly number[];
  /** Shape and dtype of each argument slot (every one becomes a graph input, used or not). */
  args: readonly { shape: readonly number[]; dtype: DType }[];
  /** Row-major values of captured tensor `slot`. */
  captureData: (slot: number) => ArrayLike<number>;
  /** Names of graph inputs (default `input_<i>`), captured tensors (default `param_<i>`) and outputs (`output_<i>`). */
  inputNames?: readonly string[];
  captureNames?: readonly (string | undefined)[];
  outputNames?: readonly string[];
  /** Captured tensors as initializers holding their values (default), or as graph inputs fed with the weights. */
  weights?: 'initializers' | 'inputs';
  /** The model's graph name. */
  name?: string;
}

/** Names of a graph's values, and the final carried values of its loop nodes. */
interface Emitted {
  names: string[];
}

function refuse(n: Node, i: number, why: string): never {
  throw new OnnxExportError(`exportOnnx: ${n.op} at %${i} (${n.dtype}${fmtShape(n.shape)}) cannot be exported: ${why}`);
}

/** The values of a constant node. */
function constantValues(n: NodeOf<'constant'>, i: number): ArrayLike<number> {
  const p = n.params;
  // Recorded data is storage (half bits for float16); ONNX tensors are built from values.
  if (p.data !== undefined) return valuesOf(p.data, n.dtype);
  if (p.value === undefined) refuse(n, i, 'it is fed from a number argument; pass that number as a tensor');
  return new Array<number>(n.shape.reduce((a, b) => a * b, 1)).fill(p.value);
}

/**
 * Appends `g`'s nodes to `b`. `inputName` names each input node's value; loop nodes'
 * iteration counts have no ONNX value, so a graph that reads one is refused.
 */
function emitGraph(b: OnnxBuilder, g: Graph, inputName: (n: NodeOf<'input'>, i: number) => string): Emitted {
  const names: string[] = [];
  const loopResults = new Map<number, string[]>();
  g.nodes.forEach((n, i) => {
    switch (n.op) {
      case 'input':
        names[i] = inputName(n, i);
        return;
      case 'constant':
        names[i] = b.constant(n.dtype, n.shape, constantValues(n, i));
        return;
      case 'write':
        return refuse(n, i, 'it writes a tensor in place; export a function without side effects (an inference step)');
      case 'setGrad':
        return refuse(n, i, 'it assigns a gradient; export the forward pass without backward()');
      case 'observe': {
        const { how, site } = n.params;
        return refuse(
          n,
          i,
          `JS reads a tensor value (${how} at ${site}), so the computation depends on it; keep tensor decisions in tensors (where, or a lifted loop)`,
        );
      }
      case 'loop': {
        names[i] = '';
        loopResults.set(i, emitLoop(b, g, i, n, names));
        return;
      }
      case 'loopResult': {
        names[i] = loopResults.get(n.inputs[0]!)![n.params.index]!;
        return;
      }
      default: {
        const rule = onnxRuleOf(n);
        if ('unsupported' in rule) return refuse(n, i, rule.unsupported);
        const operands = n.inputs.map((x) => {
          if (names[x] === '') refuse(g.nodes[x]!, x, "its iteration count is read; ONNX's Loop does not return one");
          return names[x]!;
        });
        names[i] = rule(
          b,
          operands,
          n,
          n.inputs.map((x) => g.nodes[x]!),
        );
      }
    }
  });
  return { names };
}

/** A loop graph's value as the one bool scalar ONNX's Loop condition takes (zero and NaN are false, as in kiln). */
function asCondition(b: OnnxBuilder, name: string, n: Node): string {
  let c = name;
  if (n.dtype === 'float32' || n.dtype === 'float64') {
    c = b.node('And', [
      b.node('Not', [b.node('IsNaN', [name])]),
      b.node('Cast', [name], { to: { int: ONNX_TYPE.bool } }),
    ]);
  } else if (n.dtype === 'int32') {
    c = b.node('Cast', [name], { to: { int: ONNX_TYPE.bool } });
  }
  return b.node('Reshape', [c, b.ints([])]);
}

/**
 * Emits loop node `i` of `g` as an ONNX Loop whose state is (carried values, the values the
 * loop would end with, the condition's exports): the condition runs once before the Loop
 * and again at the end of each iteration, so the Loop's `cond` is kiln's condition and its
 * final state holds what kiln's loop ends with. Returns the names of the final carried values.
 */
function emitLoop(b: OnnxBuilder, g: Graph, i: number, n: NodeOf<'loop'>, outer: readonly string[]): string[] {
  const p = n.params;
  const initial = n.inputs.slice(0, p.carried).map((x) => outer[x]!);
  const invariants = n.inputs.slice(p.carried).map((x) => outer[x]!);
  const slots =
    (values: readonly string[]) =>
    (m: NodeOf<'input'>, k: number): string => {
      const { source } = m.params;
      if (source.kind !== 'arg' || values[source.slot] === undefined)
        refuse(m, k, 'a loop graph input that is not a loop value');
      return values[source.slot]!;
    };
  const runCond = (into: OnnxBuilder, carried: readonly string[]) => {
    const { names } = emitGraph(into, p.cond, slots([...carried, ...invariants]));
    return {
      cond: asCondition(into, names[p.condValue]!, p.cond.nodes[p.condValue]!),
      exits: p.exits.map((k) => names[k]!),
      exports: p.condExports.map((k) => names[k]!),
    };
  };
  const first = runCond(b, initial);

  const body = new OnnxBuilder(`${b.prefix}loop${i}_`);
  const meta = (gr: Graph, k: number) => gr.nodes[k]!;
  const carriedMeta = n.inputs.slice(0, p.carried).map((x) => g.nodes[x]!);
  const stateMeta = [
    ...carriedMeta,
    ...p.exits.map((k) => meta(p.cond, k)),
    ...p.condExports.map((k) => meta(p.cond, k)),
  ];
  const iter = body.fresh('iter'),
    condIn = body.fresh('cond_in');
  const state = stateMeta.map(() => body.fresh('state'));
  body.inputs.push(
    valueInfo(iter, 'int64', []),
    valueInfo(condIn, 'bool', []),
    ...state.map((s, k) => valueInfo(s, stateMeta[k]!.dtype, stateMeta[k]!.shape)),
  );
  const xs = state.slice(0, p.carried),
    exports = state.slice(2 * p.carried);
  const { names } = emitGraph(body, p.body, slots([...xs, ...invariants, ...exports]));
  const next = runCond(
    body,
    p.results.map((k) => names[k]!),
  );
  const outs = [next.cond, ...p.results.map((k) => names[k]!), ...next.exits, ...next.exports];
  outs.forEach((o, k) => {
    // Every body output gets its own name: one value may fill two slots, or be a body input.
    const out = body.node('Identity', [o]);
    body.outputs.push(
      k === 0 ? valueInfo(out, 'bool', []) : valueInfo(out, stateMeta[k - 1]!.dtype, stateMeta[k - 1]!.shape),
    );
  });
  const results = b.nodeN(
    'Loop',
    ['', first.cond, ...initial, ...first.exits, ...first.exports],
    { body: { graph: body.graph(`loop${i}_body`) } },
    stateMeta.length,
  );
  return results.slice(p.carried, 2 * p.carried);
}

/** The ONNX model of `spec`, serialized. */
export function onnxModel(spec: OnnxModelSpec): Uint8Array {
  const b = new OnnxBuilder('');
  const weightsAsInputs = spec.weights === 'inputs';
  const argName = (slot: number) => spec.inputNames?.[slot] ?? `input_${slot}`;
  spec.args.forEach((a, slot) => b.inputs.push(valueInfo(argName(slot), a.dtype, a.shape)));
  const captured = new Map<number, string>();
  const { names } = emitGraph(b, spec.graph, (n, i) => {
    const { source } = n.params;
    switch (source.kind) {
      case 'arg':
        return argName(source.slot);
      case 'capture': {
        let name = captured.get(source.slot);
        if (name === undefined) {
          name = spec.captureNames?.[source.slot] ?? `param_${source.slot}`;
          captured.set(source.slot, name);
          if (weightsAsInputs) b.inputs.push(valueInfo(name, n.dtype, n.shape));
          else b.initializers.push(tensorProto(name, n.dtype, n.shape, valuesOf(spec.captureData(source.slot), n.dtype)));
        }
        return name;
      }
      case 'grad':
        return refuse(n, i, 'it reads a gradient; export the forward pass');
      default: {
        const never: never = source;
        throw new OnnxExportError(`exportOnnx: unknown input ${String(never)}`);
      }
    }
  });
  spec.outputs.forEach((o, k) => {
    const name = spec.outputNames?.[k] ?? `output_${k}`;
    const n = spec.graph.nodes[o]!;
    b.node('Identity', [names[o]!], {}, name);
    b.outputs.push(valueInfo(name, n.dtype, n.shape));
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(ONNX_OPSET) })],
    producerName: 'kiln',
    graph: b.graph(spec.name ?? 'kiln'),
  });
  return toBinary(ModelProtoSchema, model);
}
