/**
 * Four small programs a PyTorch user writes in the first hour: the polynomial fit of
 * "learning PyTorch with examples", a causal attention block, a GRU on the adding problem
 * and a CNN with GroupNorm. Each is a model, a batch maker and a training step written as
 * a user would; the suites run them eagerly and under jit, on the CPU and on WebGPU.
 */
import * as k from '../../../src/index.js';
import { nn, optim, type Tensor } from '../../../src/index.js';

export interface Program {
  name: string;
  /** A fresh model (parameters drawn from the current seed). */
  model: () => nn.Module & { forward(x: Tensor): Tensor };
  optimizer: (params: Tensor[]) => optim.Optimizer<{ lr: number }>;
  /** A batch drawn from the current seed, on the CPU. */
  batch: () => { x: Tensor; y: Tensor };
  loss: (out: Tensor, y: Tensor) => Tensor;
}

/** One training step, as a user writes it; returns the detached loss. */
export function trainStep(p: Program, model: nn.Module & { forward(x: Tensor): Tensor }, opt: optim.Optimizer<{ lr: number }>, x: Tensor, y: Tensor): Tensor {
  opt.zeroGrad();
  const loss = p.loss(model.forward(x), y);
  loss.backward();
  nn.clipGradNorm(model.parameters(), 5);
  opt.step();
  return loss.detach();
}

/** y = a + b·x + c·x² + d·x³ fitted to sin(x) on [-π, π], with a Linear(3, 1) over the powers. */
class Polynomial extends nn.Module {
  readonly fit = new nn.Sequential(new nn.Linear(3, 1), new nn.Flatten(0, 1));
  forward(x: Tensor): Tensor {
    const powers = k.tensor([1, 2, 3], { device: x.device });
    return this.fit.forward(x.unsqueeze(-1).pow(powers));
  }
}

/** One pre-norm transformer block over token embeddings, causal through tril and scaledDotProductAttention. */
class AttentionBlock extends nn.Module {
  readonly embed = new nn.Embedding(8, 16);
  readonly norm1 = new nn.LayerNorm(16);
  readonly qkv = new nn.Linear(16, 48);
  readonly proj = new nn.Linear(16, 16);
  readonly norm2 = new nn.LayerNorm(16);
  readonly mlp = new nn.Sequential(new nn.Linear(16, 32), new nn.GELU(), new nn.Linear(32, 16));
  readonly head = new nn.Linear(16, 8);
  forward(tokens: Tensor): Tensor {
    const [n, t] = tokens.shape as [number, number];
    let h = this.embed.forward(tokens);
    const [q, kk, v] = this.qkv.forward(this.norm1.forward(h)).reshape([n, t, 3, 2, 8]).permute([2, 0, 3, 1, 4]).chunk(3, 0);
    const mask = k.tril(k.ones([t, t], { dtype: 'bool', device: tokens.device }));
    const attended = nn.scaledDotProductAttention(q!.squeeze(0), kk!.squeeze(0), v!.squeeze(0), { attnMask: mask });
    h = h.add(this.proj.forward(attended.transpose(1, 2).reshape([n, t, 16])));
    h = h.add(this.mlp.forward(this.norm2.forward(h)));
    return this.head.forward(h).reshape([n * t, 8]);
  }
}

/** The adding problem: the sum of the two values marked in a sequence of (value, marker) pairs. */
export const ADDING_LENGTH = 12;

class AddingGRU extends nn.Module {
  readonly gru = new nn.GRU(2, 24, { batchFirst: true });
  readonly head = new nn.Linear(24, 1);
  forward(x: Tensor): Tensor {
    const [, h] = this.gru.forward(x);
    return this.head.forward(h.select(0, 0));
  }
}

/** Sequences [N, T, 2] of values in [0, 1) with one marked position in each half, and their marked sums [N, 1]. */
export function addingBatch(n: number): { x: Tensor; y: Tensor } {
  const t = ADDING_LENGTH;
  const values = k.rand([n, t]);
  const first = k.randint(0, t / 2, [n, 1]), second = k.randint(t / 2, t, [n, 1]);
  const pos = k.arange(t).reshape([1, t]);
  const marks = pos.eq(first).logicalOr(pos.eq(second)).cast('float32');
  return { x: k.stack([values, marks], 2), y: values.mul(marks).sum(1, true) };
}

/** A CNN with GroupNorm telling whether the bright square of an 8×8 image is in its left or right half. */
class SmallCnn extends nn.Module {
  readonly features = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.GroupNorm(2, 8), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(8, 8, 3, { padding: 1 }), new nn.GroupNorm(4, 8), new nn.ReLU(),
  );
  readonly head = new nn.Linear(8, 2);
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x).mean([2, 3]));
  }
}

function squares(n: number): { x: Tensor; y: Tensor } {
  const side = k.randint(0, 2, [n]);
  const row = k.randint(0, 6, [n, 1, 1, 1]), col = k.randint(0, 3, [n, 1, 1, 1]).add(side.reshape([n, 1, 1, 1]).mul(4));
  const r = k.arange(8).reshape([1, 1, 8, 1]), c = k.arange(8).reshape([1, 1, 1, 8]);
  const inside = r.ge(row).logicalAnd(r.lt(row.add(2))).logicalAnd(c.ge(col)).logicalAnd(c.lt(col.add(2)));
  return { x: inside.cast('float32').add(k.rand([n, 1, 8, 8]).mul(0.3)), y: side };
}

export const programs: Program[] = [
  {
    name: 'polynomial fit of sin(x)',
    model: () => new Polynomial(),
    optimizer: (params) => new optim.SGD(params, { lr: 1e-3, momentum: 0.9 }),
    batch: () => {
      const x = k.linspace(-Math.PI, Math.PI, 200);
      return { x, y: x.sin() };
    },
    loss: (out, y) => nn.mseLoss(out, y),
  },
  {
    name: 'causal attention block (tril + scaledDotProductAttention)',
    model: () => new AttentionBlock(),
    optimizer: (params) => new optim.AdamW(params, { lr: 1e-2 }),
    batch: () => {
      // Each sequence counts up from a random start modulo 8: the next token is predictable.
      const start = k.randint(0, 8, [4, 1]);
      const tokens = start.add(k.arange(7).reshape([1, 7])).remainder(8);
      return { x: tokens.index(':', '0:6'), y: tokens.index(':', '1:7').reshape([24]) };
    },
    loss: (out, y) => nn.crossEntropy(out, y),
  },
  {
    name: 'GRU on the adding problem',
    model: () => new AddingGRU(),
    optimizer: (params) => new optim.Adam(params, { lr: 1e-2 }),
    batch: () => addingBatch(64),
    loss: (out, y) => nn.mseLoss(out, y),
  },
  {
    name: 'CNN with GroupNorm',
    model: () => new SmallCnn(),
    optimizer: (params) => new optim.RMSprop(params, { lr: 3e-3 }),
    batch: () => squares(16),
    loss: (out, y) => nn.crossEntropy(out, y),
  },
];
