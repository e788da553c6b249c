/**
 * SGD at momentum 0 keeps no momentum buffer and updates p -= lr·g (PyTorch's update), with
 * the bits of that formula; momentum turned on later starts a buffer then. Under jit the
 * choice is a guard checked before the step writes anything, so a replay whose guard fails
 * leaves the parameters as they were and the eager rerun updates them once.
 */
import { describe, expect, it } from 'vitest';
import { jit, manualSeed, nn, optim, randint, randn, tensor, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { fixedProblem, sgdReference } from './reference.js';

const close = { rtol: 1e-13, atol: 1e-15, dtype: 'float64' as const };

describe('SGD at momentum 0', () => {
  it('keeps no buffer, and p -= lr·g has the bits of the float32 formula', () => {
    manualSeed(7);
    const p = randn([5, 3]).requiresGrad_(), g = randn([5, 3]);
    const expected = p.sub(g.mul(tensor(0.3))).data<'float32'>();
    const opt = new optim.SGD([p], { lr: 0.3 });
    p.grad = g;
    opt.step();
    expect(p.data<'float32'>()).toEqual(expected);
    expect(opt.state.get(p)?.momentumBuffer).toBeUndefined();
  });

  it('momentum turned on later starts its buffer at that step, as PyTorch', () => {
    const { p0, grads } = fixedProblem(602);
    const p = tensor(Float64Array.from(p0), { shape: [2, 3], requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    const step = (k: number) => {
      p.grad = tensor(Float64Array.from(grads[k]!), { shape: [2, 3] });
      opt.step();
    };
    step(0);
    step(1);
    const plain = sgdReference(p0, grads.slice(0, 2), { lr: 0.1 });
    expectAllClose(p, plain[1]!, { ...close, shape: [2, 3] });
    opt.paramGroups[0]!.momentum = 0.9;
    step(2);
    step(3);
    const resumed = sgdReference(plain[1]!, grads.slice(2, 4), { lr: 0.1, momentum: 0.9 });
    expectAllClose(p, resumed[1]!, { ...close, shape: [2, 3] });
  });

  it('under jit equals eager bit for bit while momentum goes from 0 to 0.9 and back', () => {
    const run = (compiled: boolean) => {
      manualSeed(8);
      const model = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
      const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
      const body = (x: Tensor, y: Tensor) => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss.detach();
      };
      const traced = jit(body);
      const step = compiled ? traced : body;
      const x = randn([4, 6]), y = randint(0, 3, [4]);
      const losses: number[] = [];
      for (let i = 0; i < 12; i++) {
        if (i === 5) opt.paramGroups[0]!.momentum = 0.9;
        if (i === 9) opt.paramGroups[0]!.momentum = 0;
        losses.push(step(x, y).item());
      }
      const params = model.parameters().map((p) => Array.from(p.data<'float32'>()));
      return { losses, params, stats: compiled ? traced.stats : undefined };
    };
    const eager = run(false), compiled = run(true);
    expect(compiled.losses).toEqual(eager.losses);
    expect(compiled.params).toEqual(eager.params);
    // Each change of momentum's zeroness failed the guard of a replay (calls 6 and 10).
    expect(compiled.stats).toMatchObject({ fallbacks: 2, variants: 2 });
    expect(compiled.stats!.replays).toBeGreaterThan(4);
  });
});
