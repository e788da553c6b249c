/** Runs a fuzzed program on kiln tensors, and makes its inputs. */
import { tensor, type Tensor } from '../../src/index.js';
import { opNamed } from './ops.js';
import type { Input, Program, Stmt } from './program.js';

/** A CPU tensor holding an input's elements (-0, NaN and the infinities kept). */
export function makeInput(x: Input, values = x.values): Tensor {
  return tensor(Float64Array.from(values), { shape: x.meta.shape.slice(), dtype: x.meta.dtype });
}

/** Hooks around each statement, for checks that look at operands and results. */
export interface StepHooks {
  before?(s: Stmt, args: Tensor[]): void;
  after?(s: Stmt, out: Tensor): void;
}

/** Runs `p` on `inputs` (in `p.inputs` order); returns every value by id and the outputs. */
export function runProgram(
  p: Program, inputs: readonly Tensor[], hooks: StepHooks = {},
): { values: Map<number, Tensor>; outputs: Tensor[] } {
  const values = new Map<number, Tensor>();
  p.inputs.forEach((x, i) => values.set(x.id, inputs[i]!));
  for (const s of p.stmts) {
    const args = s.args.map((a) => values.get(a)!);
    hooks.before?.(s, args);
    const out = opNamed(s.op).run(args, s.params);
    hooks.after?.(s, out);
    values.set(s.id, out);
  }
  return { values, outputs: p.outputs.map((o) => values.get(o)!) };
}

/** The program as a function of its inputs, as jit sees it. */
export function programFunction(p: Program): (...inputs: Tensor[]) => Tensor[] {
  return (...inputs: Tensor[]) => runProgram(p, inputs).outputs;
}
