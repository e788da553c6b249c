/**
 * The bad-input catalogue: mistakes a new user makes, each of which must be a typed KilnError
 * that names the function the user called (never an op inside it), says what it got and what
 * would be valid, and leaves every tensor, module, optimizer, jit'd function and the random
 * stream involved as it was and still usable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as k from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { initEagerForTests } from '../webgpu.js';
import { keepFunction, keepModule, keepOptimizer, keepRandom, keepTensor, type Mistake } from './catalogue-keep.js';
import { creationMistakes, opMistakes } from './errors-catalogue-ops.js';

const f32 = (values: number[], shape?: number[]) =>
  k.tensor(Float32Array.from(values), { shape: shape ?? [values.length] });
const i32 = (values: number[]) => k.tensor(Int32Array.from(values));

/** A small linear model, a copy of its input, and a forward pass to check it by. */
function linearModel(): { m: k.nn.Linear; input: () => Tensor } {
  k.manualSeed(3);
  const m = new k.nn.Linear(3, 2);
  return { m, input: () => f32([1, -2, 0.5, 3, 0, -1], [2, 3]) };
}

/** An optimizer that has taken one step, so it holds moments. */
function steppedAdam(): { p: Tensor; opt: k.optim.Adam } {
  const p = f32([1, 2, 3]).requiresGrad_();
  const opt = new k.optim.Adam([p], { lr: 0.1 });
  p.mul(p).sum().backward();
  opt.step();
  return { p, opt };
}

/** A jit'd function that has compiled (its third call replays). */
function compiledJit(): { f: k.JitFunction<(a: Tensor) => Tensor>; good: () => Tensor[] } {
  const f = k.jit((a: Tensor) => a.mul(2).add(1));
  const good = () => [f32([1, 2, 3])];
  for (let i = 0; i < 3; i++) f(...(good() as [Tensor]));
  return { f, good };
}

const nnMistakes: Mistake[] = [
  {
    name: 'mseLoss with shapes that do not broadcast',
    setup: () => {
      const a = k.ones([2, 3]), b = k.ones([4]);
      return { act: () => k.nn.mseLoss(a, b), kept: [keepTensor('input', a), keepTensor('target', b)] };
    },
    cls: k.ShapeError, op: 'mseLoss', says: ['[2,3]', '[4]'],
  },
  {
    name: 'binaryCrossEntropyWithLogits with shapes that do not broadcast',
    setup: () => {
      const a = k.ones([2, 3]), b = k.ones([4]);
      return { act: () => k.nn.binaryCrossEntropyWithLogits(a, b), kept: [keepTensor('logits', a)] };
    },
    cls: k.ShapeError, op: 'binaryCrossEntropyWithLogits', says: ['[2,3]', '[4]'],
  },
  {
    name: 'crossEntropy with a class index past the last class',
    setup: () => {
      const x = k.ones([2, 3]), t = i32([1, 3]);
      return { act: () => k.nn.crossEntropy(x, t), kept: [keepTensor('logits', x), keepTensor('target', t)] };
    },
    cls: k.ValueError, op: 'crossEntropy', says: ['index 3', '3 classes', 'valid: 0..2'],
  },
  {
    name: 'crossEntropy with a negative class index',
    setup: () => {
      const x = k.ones([2, 3]), t = i32([-1, 0]);
      return { act: () => k.nn.crossEntropy(x, t), kept: [keepTensor('logits', x)] };
    },
    cls: k.ValueError, op: 'crossEntropy', says: ['index -1', 'valid: 0..2'],
  },
  {
    name: 'crossEntropy with targets of the wrong length',
    setup: () => {
      const x = k.ones([2, 3]), t = i32([1, 2, 0]);
      return { act: () => k.nn.crossEntropy(x, t), kept: [keepTensor('logits', x)] };
    },
    cls: k.ShapeError, op: 'crossEntropy', says: ['[2,3]', 'of shape [2]', '[3]'],
  },
  {
    name: 'crossEntropy with 1-D logits',
    setup: () => {
      const x = k.ones([3]), t = i32([1]);
      return { act: () => k.nn.crossEntropy(x, t), kept: [keepTensor('logits', x)] };
    },
    cls: k.ShapeError, op: 'crossEntropy', says: ['[N, C]', '[3]'],
  },
  {
    name: 'crossEntropy with int32 logits',
    setup: () => {
      const x = k.ones([2, 3], { dtype: 'int32' }), t = i32([1, 0]);
      return { act: () => k.nn.crossEntropy(x, t), kept: [keepTensor('logits', x)] };
    },
    cls: k.DTypeError, op: 'crossEntropy', says: ['int32', 'float32'],
  },
  {
    name: 'nllLoss with a class index past the last class',
    setup: () => {
      const x = k.zeros([2, 4]), t = i32([0, 9]);
      return { act: () => k.nn.nllLoss(x, t), kept: [keepTensor('logProbs', x)] };
    },
    cls: k.ValueError, op: 'nllLoss', says: ['index 9', '4 classes'],
  },
  {
    name: 'Embedding with an index past the table',
    setup: () => {
      k.manualSeed(1);
      const e = new k.nn.Embedding(4, 3);
      const idx = i32([1, 7]);
      return {
        act: () => e.forward(idx),
        kept: [keepModule('embedding', e, () => i32([0, 3])), keepTensor('indices', idx)],
      };
    },
    cls: k.ValueError, op: 'Embedding', says: ['index 7', '4 embeddings', 'valid: 0..3'],
  },
  {
    name: 'Embedding with float indices',
    setup: () => {
      k.manualSeed(1);
      const e = new k.nn.Embedding(4, 3);
      return { act: () => e.forward(f32([1])), kept: [keepModule('embedding', e, () => i32([2]))] };
    },
    cls: k.DTypeError, op: 'Embedding', says: ['int32', 'float32[1]'],
  },
  {
    name: 'indexSelect with an index past the dim',
    setup: () => {
      const x = k.ones([2, 3]);
      return { act: () => x.indexSelect(0, i32([5])), kept: [keepTensor('x', x)] };
    },
    cls: k.ValueError, op: 'indexSelect', says: ['index 5', 'size 2', 'valid: 0..1'],
  },
  {
    name: 'Linear on inputs with the wrong number of features',
    setup: () => {
      const { m, input } = linearModel();
      return { act: () => m.forward(k.zeros([4, 5])), kept: [keepModule('linear', m, input)] };
    },
    cls: k.ShapeError, op: 'Linear', says: ['3 features', '[4,5]'],
  },
  {
    name: 'loadStateDict with a wrong shape',
    setup: () => {
      const { m, input } = linearModel();
      return {
        act: () => m.loadStateDict({ weight: k.zeros([2, 3]), bias: k.zeros([5]) }),
        kept: [keepModule('linear', m, input)],
      };
    },
    cls: k.ShapeError, op: 'loadStateDict', says: ['bias', '[5]', '[2]'],
  },
  {
    name: 'loadStateDict with a missing key',
    setup: () => {
      const { m, input } = linearModel();
      return { act: () => m.loadStateDict({ weight: k.zeros([2, 3]) }), kept: [keepModule('linear', m, input)] };
    },
    cls: k.ValueError, op: 'loadStateDict', says: ['missing bias'],
  },
  {
    name: 'loadStateDict with a disposed tensor after a good one',
    setup: () => {
      const { m, input } = linearModel();
      const b = k.zeros([2]);
      b.dispose();
      return {
        act: () => m.loadStateDict({ weight: k.zeros([2, 3]), bias: b }),
        kept: [keepModule('linear', m, input)],
      };
    },
    cls: k.ValueError, op: 'loadStateDict', says: ['bias', 'disposed'],
  },
  {
    name: 'loadStateDict mixing devices: nothing is overwritten before the error',
    gpu: true,
    setup: () => {
      const { m, input } = linearModel();
      const state = { weight: k.zeros([2, 3]), bias: k.zeros([2], { device: 'webgpu' }) };
      return { act: () => m.loadStateDict(state), kept: [keepModule('linear', m, input)] };
    },
    cls: k.DeviceError, op: 'loadStateDict', says: ['bias', 'webgpu', 'cpu'],
  },
  {
    name: 'layerNorm whose shape is not the input’s trailing dims',
    setup: () => {
      const x = k.ones([2, 3]);
      return { act: () => k.nn.layerNorm(x, [4]), kept: [keepTensor('x', x)] };
    },
    cls: k.ShapeError, op: 'layerNorm', says: ['[4]', '[2,3]'],
  },
  {
    name: 'dropout with p outside [0, 1]',
    setup: () => {
      const x = k.ones([2, 3]);
      return { act: () => k.nn.dropout(x, 2), kept: [keepTensor('x', x), keepRandom()] };
    },
    cls: k.ValueError, op: 'dropout', says: ['[0, 1]', 'got 2'],
  },
];

const optimMistakes: Mistake[] = [
  {
    name: 'an optimizer over something that is not a tensor',
    setup: () => ({ act: () => new k.optim.SGD([{ data: [1] } as never], { lr: 0.1 }), kept: [] }),
    cls: k.ValueError, op: 'SGD', says: ['list of tensors', 'element 0 is an object'],
  },
  {
    name: 'an optimizer group holding a number',
    setup: () => {
      const p = f32([1]).requiresGrad_();
      return { act: () => new k.optim.SGD([{ params: [p, 3 as never] }], { lr: 0.1 }), kept: [keepTensor('p', p)] };
    },
    cls: k.ValueError, op: 'SGD', says: ['group 0 parameter 1', 'got 3'],
  },
  {
    name: 'an optimizer over a tensor that does not require grad',
    setup: () => {
      const p = f32([1]);
      return { act: () => new k.optim.Adam([p], { lr: 0.1 }), kept: [keepTensor('p', p)] };
    },
    cls: k.ValueError, op: 'Adam', says: ['require grad', '[1]'],
  },
  {
    name: 'an optimizer with no parameters',
    setup: () => ({ act: () => new k.optim.SGD([], { lr: 0.1 }), kept: [] }),
    cls: k.ValueError, op: 'SGD', says: ['non-empty'],
  },
  {
    name: 'a negative learning rate',
    setup: () => {
      const p = f32([1]).requiresGrad_();
      return { act: () => new k.optim.Adam([p], { lr: -1 }), kept: [keepTensor('p', p)] };
    },
    cls: k.ValueError, op: 'Adam', says: ['lr', 'non-negative', 'got -1'],
  },
  {
    name: 'optimizer loadStateDict with a wrong-shaped moment',
    setup: () => {
      const { p, opt } = steppedAdam();
      const saved = opt.stateDict();
      saved.state[0]!.expAvg = k.zeros([5]);
      return { act: () => opt.loadStateDict(saved), kept: [keepOptimizer('adam', opt), keepTensor('p', p)] };
    },
    cls: k.ShapeError, op: 'Adam.loadStateDict', says: ['expAvg', '[5]', '[3]'],
  },
  {
    name: 'optimizer loadStateDict with state for a parameter it does not have',
    setup: () => {
      const { opt } = steppedAdam();
      const saved = opt.stateDict();
      saved.state[4] = saved.state[0]!;
      return { act: () => opt.loadStateDict(saved), kept: [keepOptimizer('adam', opt)] };
    },
    cls: k.ValueError, op: 'Adam.loadStateDict', says: ['parameter 4', 'valid: 0..0'],
  },
  {
    name: 'optimizer loadStateDict with a string learning rate',
    setup: () => {
      const { opt } = steppedAdam();
      const saved = opt.stateDict();
      (saved.paramGroups[0] as { lr: unknown }).lr = '0.1';
      return { act: () => opt.loadStateDict(saved), kept: [keepOptimizer('adam', opt)] };
    },
    cls: k.ValueError, op: 'Adam.loadStateDict', says: ['lr', 'number', '"0.1"'],
  },
];

const jitMistakes: Mistake[] = [
  {
    name: 'jit with captures that is not a function',
    setup: () => ({ act: () => k.jit((a: Tensor) => a, { captures: 1 as never }), kept: [] }),
    cls: k.ValueError, op: 'jit', says: ['captures', 'function', 'got 1'],
  },
  {
    name: 'jit with passes that is not a list',
    setup: () => ({ act: () => k.jit((a: Tensor) => a, { passes: {} as never }), kept: [] }),
    cls: k.ValueError, op: 'jit', says: ['passes', 'array', 'got an object'],
  },
  {
    name: 'jit with a pass lacking run',
    setup: () => ({ act: () => k.jit((a: Tensor) => a, { passes: [{ name: 'mine' }] as never }), kept: [] }),
    cls: k.ValueError, op: 'jit', says: ['passes', 'run'],
  },
  {
    name: 'jit of a number',
    setup: () => ({ act: () => k.jit(42 as never), kept: [] }),
    cls: k.ValueError, op: 'jit', says: ['function', 'got number'],
  },
  {
    name: 'jit with maxVariants 0',
    setup: () => ({ act: () => k.jit((a: Tensor) => a, { maxVariants: 0 }), kept: [] }),
    cls: k.ValueError, op: 'jit', says: ['maxVariants', 'positive integer', 'got 0'],
  },
  {
    name: 'a compiled function called with a disposed argument',
    setup: () => {
      const { f, good } = compiledJit();
      const x = f32([4, 5, 6]);
      x.dispose();
      return { act: () => f(x), kept: [keepFunction('the jit function', f, good)] };
    },
    cls: k.ValueError, op: 'jit(anonymous)', says: ['argument 0', 'float32[3]', 'disposed'],
  },
  {
    name: 'a compiled function called with a disposed tensor inside an object',
    setup: () => {
      const f = k.jit((o: { a: Tensor }) => o.a.exp());
      const good = () => [{ a: f32([0, 1]) }];
      for (let i = 0; i < 3; i++) f(...(good() as [{ a: Tensor }]));
      const a = f32([0, 1]);
      a.dispose();
      return { act: () => f({ a }), kept: [keepFunction('the jit function', f as never, good)] };
    },
    cls: k.ValueError, op: 'jit(anonymous)', says: ['argument 0.a', 'disposed'],
  },
  {
    name: 'a compiled function whose body fails on new shapes',
    setup: () => {
      const f = k.jit((a: Tensor, b: Tensor) => a.add(b));
      const good = () => [f32([1, 2]), f32([3, 4])];
      for (let i = 0; i < 3; i++) f(...(good() as [Tensor, Tensor]));
      const a = k.ones([2, 3]), b = k.ones([4]);
      return {
        act: () => f(a, b),
        kept: [keepFunction('the jit function', f as never, good), keepTensor('a', a), keepTensor('b', b)],
      };
    },
    cls: k.ShapeError, op: 'add', says: ['[2,3]', '[4]'],
  },
];

const mistakes: Mistake[] = [...creationMistakes, ...opMistakes, ...nnMistakes, ...optimMistakes, ...jitMistakes];

describe('the bad-input catalogue', () => {
  let gpu = false;
  beforeAll(async () => {
    gpu = await initEagerForTests('errors catalogue');
  });

  it('holds at least 60 mistakes', () => {
    expect(mistakes.length).toBeGreaterThanOrEqual(60);
    expect(new Set(mistakes.map((m) => m.name)).size).toBe(mistakes.length);
  });

  it.each(mistakes)('$name', async ({ setup, cls, op, says, gpu: needsGpu }) => {
    if (needsGpu && !gpu) return;
    const { act, kept } = setup();
    const before = await Promise.all(kept.map((x) => x.observe()));
    let error: unknown;
    try {
      act();
    } catch (e) {
      error = e;
    }
    expect(error, 'the mistake must throw').toBeInstanceOf(k.KilnError);
    expect(error).toBeInstanceOf(cls);
    const message = (error as Error).message;
    expect(message.startsWith(`${op}: `), `"${message}" should start with "${op}: "`).toBe(true);
    // Signs of a message built from a broken value: [NaN], [3,], [object Object].
    expect(message).not.toMatch(/internal|\[NaN|,\]|\[object/);
    for (const s of says) expect(message).toContain(s);
    const after = await Promise.all(kept.map((x) => x.observe()));
    kept.forEach((x, i) => expect(after[i], `${x.name} changed or stopped working`).toEqual(before[i]));
  });
});
