/**
 * Small models the export and explain suites share: an MLP, the MNIST CNN of
 * examples/mnist-cnn.ts, layerNorm/softmax/gelu blocks, an attention block and the seed's
 * while loop. Each comes with a generator of fresh inputs of its example shapes.
 */
import { jit, manualSeed, nn, tensor, where, type Tensor, type Tensor as T } from '../../../src/node.js';
import { makeCnn } from '../../../examples/mnist-cnn.js';

/** A model to export: the function, and inputs drawn from a seeded generator. */
export interface TestModel {
  name: string;
  fn: (...args: T[]) => T | T[];
  module?: nn.Module;
  inputs: (next: () => number) => T[];
  /** Inputs to export with, when random ones may not do (a loop must run to be lifted). */
  example?: () => T[];
}

const floats = (next: () => number, shape: number[], scale = 1): T =>
  tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next() * 2 - 1) * scale),
    { shape },
  );

/** Self-attention over [batch, seq, dim] with a causal mask, one head. */
export class Attention extends nn.Module {
  readonly q: nn.Linear;
  readonly k: nn.Linear;
  readonly v: nn.Linear;
  readonly out: nn.Linear;
  readonly norm: nn.LayerNorm;
  constructor(readonly dim: number) {
    super();
    this.q = new nn.Linear(dim, dim);
    this.k = new nn.Linear(dim, dim);
    this.v = new nn.Linear(dim, dim);
    this.out = new nn.Linear(dim, dim);
    this.norm = new nn.LayerNorm([dim]);
  }
  forward(x: T): T {
    const h = this.norm.forward(x);
    const q = this.q.forward(h),
      k = this.k.forward(h),
      v = this.v.forward(h);
    const seq = x.shape[1]!;
    const scores = q.matmul(k.transpose(1, 2)).div(Math.sqrt(this.dim));
    const causal = tensor(
      Array.from({ length: seq }, (_, i) => Array.from({ length: seq }, (_, j) => j <= i)),
      { dtype: 'bool' },
    );
    const masked = where(causal, scores, -1e9);
    return x.add(this.out.forward(masked.softmax(-1).matmul(v)));
  }
}

/** The seed loop, rewritten at run time so its tensor `while` lifts into a loop node. */
function seedLoop(first: Tensor, second: Tensor): Tensor[] {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

/** The models, built with fixed seeds. */
export function testModels(): TestModel[] {
  manualSeed(7);
  const mlp = new nn.Sequential(new nn.Linear(16, 32), new nn.ReLU(), new nn.Linear(32, 10));
  const cnn = makeCnn([8, 16]);
  const norm = new nn.LayerNorm([24]);
  const attention = new Attention(16);
  const seed = jit(seedLoop, { rewrite: true });
  const ints = (next: () => number) => tensor([Math.floor(next() * 20)], { dtype: 'int32' });
  return [
    { name: 'MLP', fn: (x) => mlp.forward(x), module: mlp, inputs: (next) => [floats(next, [8, 16])] },
    { name: 'MNIST CNN', fn: (x) => cnn.forward(x), module: cnn, inputs: (next) => [floats(next, [4, 1, 28, 28])] },
    {
      name: 'layerNorm, softmax and gelu blocks',
      fn: (x) => [norm.forward(x), x.softmax(-1), x.gelu(), x.gelu('tanh')],
      module: norm,
      inputs: (next) => [floats(next, [6, 24], 3)],
    },
    {
      name: 'attention block',
      fn: (x) => attention.forward(x),
      module: attention,
      inputs: (next) => [floats(next, [2, 5, 16])],
    },
    {
      name: 'seed while loop',
      fn: (a, b) => seed(a!, b!),
      inputs: (next) => [ints(next), ints(next)],
      example: () => [tensor([0], { dtype: 'int32' }), tensor([10], { dtype: 'int32' })],
    },
  ];
}
