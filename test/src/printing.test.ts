/** Printing like PyTorch: console.log through util.inspect, toString, string concatenation, and module trees. */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nn, randn, tensor } from '../../src/index.js';

describe('tensors', () => {
  it('console.log (util.inspect) prints the values, not the storage', () => {
    const t = tensor([[1, 2], [3, 4]]);
    expect(inspect(t)).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(inspect({ t: tensor([1.5]) })).toBe('{ t: tensor([1.5000]) }');
  });
  it("'x=' + t prints a tensor of any size; one-element tensors still add as numbers", () => {
    expect('x=' + tensor([1, 2, 3])).toBe('x=tensor([1., 2., 3.])');
    expect(`${tensor([[1, 2]])}`).toBe('tensor([[1., 2.]])');
    expect((tensor([2]) as unknown as number) + 1).toBe(3);
  });
  it('shows dtype, requiresGrad and gradFn as PyTorch does', () => {
    expect(String(tensor([1, 2], { dtype: 'int32' }))).toBe('tensor([1, 2], dtype=int32)');
    const w = tensor([1, 2], { requiresGrad: true });
    expect(String(w)).toBe('tensor([1., 2.], requiresGrad=true)');
    expect(String(w.mul(2))).toBe('tensor([2., 4.], gradFn=<MulBackward>)');
  });
});

describe('modules', () => {
  it('print their tree like PyTorch repr, nested and with settings', () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.GroupNorm(2, 4), new nn.LeakyReLU(0.2), new nn.Sequential(new nn.Flatten(), new nn.Identity()));
    expect(String(model)).toBe([
      'Sequential(',
      '  (0): Conv2d(inChannels=1, outChannels=4, kernelSize=[3, 3], stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1)',
      '  (1): GroupNorm(numGroups=2, numChannels=4, eps=0.00001)',
      '  (2): LeakyReLU(negativeSlope=0.2)',
      '  (3): Sequential(',
      '    (0): Flatten(startAxis=1, endAxis=-1)',
      '    (1): Identity()',
      '  )',
      ')',
    ].join('\n'));
    expect(inspect(model)).toBe(String(model));
  });
  it('name ModuleList and ModuleDict children by index and key', () => {
    const m = new nn.ModuleDict({ enc: new nn.ModuleList([new nn.ReLU(), new nn.Tanh()]) });
    expect(String(m)).toBe('ModuleDict(\n  (enc): ModuleList(\n    (0): ReLU()\n    (1): Tanh()\n  )\n)');
  });
  it('a custom module prints its fields that are modules', () => {
    class Net extends nn.Module {
      readonly body = new nn.Linear(2, 3);
      forward(x: ReturnType<typeof randn>) { return this.body.forward(x); }
    }
    expect(String(new Net())).toBe('Net(\n  (body): Linear(inFeatures=2, outFeatures=3)\n)');
  });
});
