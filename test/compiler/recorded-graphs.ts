/**
 * Graphs recorded from real kiln functions, for IR and pass tests: elementwise math with
 * constants (long data, -0), indexing and shape ops, random draws behind a guard, whole
 * training steps (in-place writes, `.grad` reads and assignments), and a lifted loop.
 */
import * as k from '../../src/index.js';
import { Tensor, nn, optim } from '../../src/index.js';
import type { Graph } from '../../compiler/ir/graph.js';
import { runTraced } from '../../src/jit/context.js';
import { Trace } from '../../src/jit/trace.js';
import { __kiln } from '../../src/hooks.js';

/** A recording: its graph, the nodes of the result's tensors, and the arguments it was traced with. */
export interface Recorded {
  name: string;
  graph: Graph;
  outputs: number[];
  trace: Trace;
  args: Tensor[];
}

function collect(value: unknown, out: Tensor[]): void {
  if (value instanceof Tensor) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collect(v, out));
}

/** Records one call of `fn` on `args`. */
export function record(name: string, args: Tensor[], fn: (...args: Tensor[]) => unknown): Recorded {
  const trace = new Trace(args, []);
  const result = runTraced(trace, () => fn(...args));
  const tensors: Tensor[] = [];
  collect(result, tensors);
  return { name, graph: trace.graph, outputs: tensors.map((t) => trace.idOf(t)), trace, args };
}

function trainStep(model: nn.Sequential, opt: optim.Optimizer<{ lr: number }>, loss: 'mse' | 'ce', x: Tensor, y: Tensor): Tensor {
  opt.zeroGrad();
  const out = model.forward(x);
  const l = loss === 'mse' ? nn.mseLoss(out, y) : nn.crossEntropy(out, y);
  l.backward();
  opt.step();
  return l.detach();
}

/** A fresh set of recordings (the functions run eagerly while recording, so each call makes new ones). */
export function recordedGraphs(): Recorded[] {
  k.manualSeed(7);
  const x = k.randn([4, 3]);
  const elementwise = record('elementwise math with constants', [x], (x) => {
    const data = k.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).reshape([4, 3]);
    const y = x.mul(2).add(1).exp().mul(data).sub(x.mul(-0)).div(3);
    return [y.sum(1), y.max(0), k.where(y.gt(1), y, k.neg(y)), y.cast('float64').cast('float32')];
  });

  const idx = k.tensor([[0, 2], [1, 0], [2, 2], [0, 1]], { dtype: 'int32' });
  const shapes = record('indexing and shape ops', [x, idx], (x, idx) => {
    const g = k.gather(x, 1, idx);
    const s = k.scatterAdd(k.zeros([4, 3]), 1, idx, g);
    const c = k.cat([k.transpose(x, 0, 1), k.slice(k.pad(x, [1, 2]), 1, 0, 4, 2).transpose(0, 1)], 0);
    const h = k.oneHot(k.argmax(x, 1), 3);
    return [s, c, h, k.matmul(x, k.transpose(x, 0, 1)), x.prod(0), x.min(1), k.argmin(x, 0), k.remainder(idx, 2).eq(1)];
  });

  const guarded = record('random draws behind a guard', [x], (x) => {
    const drop = new nn.Dropout(0.5);
    const r = drop.forward(x);
    return r.sum().item() > 0 ? [r, k.rand([2, 2])] : [k.neg(r)];
  });

  const model = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
  const adam = new optim.Adam(model.parameters(), { lr: 0.01 });
  const y = k.randn([4, 2]);
  trainStep(model, adam, 'mse', x, y);
  const adamStep = record('training step, Adam', [x, y], (x, y) => trainStep(model, adam, 'mse', x, y));

  const model2 = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 3));
  const sgd = new optim.SGD(model2.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-2 });
  const labels = k.tensor([0, 2, 1, 2], { dtype: 'int32' });
  const sgdStep = record('training step, SGD with momentum', [x, labels], (x, t) => trainStep(model2, sgd, 'ce', x, t));

  // Gradients computed outside the call are read as gradient inputs.
  nn.mseLoss(model.forward(x), y).backward();
  const outsideGrads = record('optimizer step on gradients from outside', [], () => {
    adam.step();
    adam.zeroGrad();
  });

  // A loop as the source transform hands it over: recorded iteration by iteration, lifted at its end.
  const lifted = record('a lifted loop', [x], (x) => {
    let y = x;
    let n = k.tensor(0, { dtype: 'int32' });
    let d = y.mul(0);
    __kiln.lift('recorded.ts:1:1', () => (d = y.mul(0.5)).abs().sum().gt(1), () => {
      y = y.sub(d);
      n = n.add(1);
    }, () => [y, n, d]);
    return [y, n, d];
  });
  return [elementwise, shapes, guarded, adamStep, sgdStep, outsideGrads, lifted];
}
