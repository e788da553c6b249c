/**
 * Runs any graph (recorded, parsed from text or built by hand) node by node with kiln's
 * eager ops: the reference a pass author compares a rewritten graph against. Writes land in
 * the tensors given as inputs, as they would in a replay; observed values and gradient
 * assignments are returned rather than checked or applied.
 */
import type { Graph } from '../../compiler/ir/graph.js';
import { verifyGraph } from '../../compiler/ir/verify.js';
import { JitError } from '../../runtime/errors.js';
import { noGrad } from '../autograd/mode.js';
import { apply, writeInto } from '../dispatch.js';
import { Tensor } from '../tensor.js';
import { materialize } from './replay-values.js';

/** The tensors a graph's input nodes read. */
export interface GraphInputs {
  /** By argument slot. */
  args?: readonly Tensor[];
  /** By capture slot. */
  captures?: readonly Tensor[];
  /** Values of dynamic number arguments, by position (constants fed from a number). */
  numbers?: readonly number[];
}

/** Every node's value (undefined for effects), the values JS observed, and gradients assigned. */
export interface GraphValues {
  values: (Tensor | undefined)[];
  observed: { node: number; values: number[] }[];
  grads: { node: number; grad: Tensor | null }[];
}

function truthy(t: Tensor): boolean {
  const x = t.data()[0]!;
  return x !== 0 && !Number.isNaN(x);
}

function run(g: Graph, inputs: GraphInputs): GraphValues {
  const values: (Tensor | undefined)[] = [];
  const observed: GraphValues['observed'] = [];
  const grads: GraphValues['grads'] = [];
  const loopResults = new Map<number, Tensor[]>();
  g.nodes.forEach((n, i) => {
    const at = (k: number) => values[n.inputs[k]!]!;
    switch (n.op) {
      case 'input': {
        const { source } = n.params;
        const t =
          source.kind === 'arg'
            ? inputs.args?.[source.slot]
            : source.kind === 'capture'
              ? inputs.captures?.[source.slot]
              : (values[source.of]?.grad ?? undefined);
        if (t === undefined)
          throw new JitError(
            `evaluateGraph: input %${i} reads ${source.kind} ${'slot' in source ? source.slot : source.of}, which was not given`,
          );
        values[i] = t;
        return;
      }
      case 'constant':
        values[i] = materialize(n, inputs.numbers ?? []);
        return;
      case 'write':
        writeInto('evaluateGraph', at(0), at(1));
        return;
      case 'observe': {
        if (n.inputs.length > 0) observed.push({ node: i, values: Array.from(at(0).data(), Number) });
        return;
      }
      case 'setGrad':
        grads.push({ node: n.inputs[0]!, grad: n.inputs.length > 1 ? at(1) : null });
        return;
      case 'loop': {
        const p = n.params;
        let carried = n.inputs.slice(0, p.carried).map((x) => values[x]!);
        const invariants = n.inputs.slice(p.carried).map((x) => values[x]!);
        let iterations = 0;
        for (;;) {
          const c = run(p.cond, { ...inputs, args: [...carried, ...invariants] }).values;
          if (!truthy(c[p.condValue]!)) {
            carried = p.exits.map((k) => c[k]!);
            break;
          }
          const b = run(p.body, {
            ...inputs,
            args: [...carried, ...invariants, ...p.condExports.map((k) => c[k]!)],
          }).values;
          carried = p.results.map((k) => b[k]!);
          iterations++;
        }
        loopResults.set(i, carried);
        values[i] = Tensor.fromData(Int32Array.of(iterations), [], 'int32');
        return;
      }
      case 'loopResult':
        values[i] = loopResults.get(n.inputs[0]!)![n.params.index]!;
        return;
      default:
        values[i] = apply(
          n.op,
          n.inputs.map((x) => values[x]!),
          n.params,
        );
    }
  });
  return { values, observed, grads };
}

/**
 * Evaluates `g` on `inputs` (verified first, so a malformed graph is an error naming its
 * node, not a crash): every node's value, in node order.
 */
export function evaluateGraph(g: Graph, inputs: GraphInputs = {}): GraphValues {
  verifyGraph(g);
  return noGrad(() => run(g, inputs));
}
