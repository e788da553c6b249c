/** Catalogue entries for creation functions and tensor ops (errors-catalogue.test.ts runs them). */
import * as k from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { keepRandom, keepTensor, type Mistake } from './catalogue-keep.js';

const f32 = (values: number[], shape?: number[]) =>
  k.tensor(Float32Array.from(values), { shape: shape ?? [values.length] });
const i32 = (values: number[]) => k.tensor(Int32Array.from(values));

/** A mistake on one fresh [2,3] float32 tensor, which must stay as it was. */
function onX(name: string, act: (x: Tensor) => unknown, cls: typeof k.KilnError, op: string, says: string[]): Mistake {
  return {
    name,
    setup: () => {
      const x = f32([1, -2, 3, 0.5, 0, -1], [2, 3]);
      return { act: () => act(x), kept: [keepTensor('x', x)] };
    },
    cls, op, says,
  };
}

/** A mistake that involves no existing object but the random stream. */
function alone(name: string, act: () => unknown, cls: typeof k.KilnError, op: string, says: string[]): Mistake {
  return { name, setup: () => ({ act, kept: [keepRandom()] }), cls, op, says };
}

export const creationMistakes: Mistake[] = [
  alone('full with a string value', () => k.full([2], 'x' as never),
    k.ValueError, 'full', ['value', 'number or a boolean', '"x"']),
  alone('zeros with a negative size', () => k.zeros([-1]), k.ValueError, 'zeros', ['[-1]', 'non-negative integers']),
  alone('zeros with a fractional size', () => k.zeros([2.5]),
    k.ValueError, 'zeros', ['[2.5]', 'non-negative integers']),
  alone('ones with an undefined size', () => k.ones([3, undefined as never]), k.ValueError, 'ones', ['[3,undefined]']),
  alone('zeros with a number for a shape', () => k.zeros(3 as never),
    k.ValueError, 'zeros', ['shape must be an array', 'got 3']),
  alone('an unknown device', () => k.zeros([2], { device: 'tpu' as never }),
    k.DeviceError, 'zeros', ['tpu', 'valid: cpu, webgpu']),
  alone('rand on an unknown device draws nothing', () => k.rand([4], { device: 'gpu' as never }),
    k.DeviceError, 'rand', ['gpu', 'valid: cpu, webgpu']),
  alone('randn with an int dtype draws nothing', () => k.randn([4], { dtype: 'int32' }),
    k.DTypeError, 'randn', ['float32 or float64', 'int32']),
  alone('randint with low above high', () => k.randint(5, 2, [3]), k.ValueError, 'randint', ['low=5', 'high=2']),
  alone('an unknown dtype', () => k.tensor([1], { dtype: 'bfloat16' as never }),
    k.DTypeError, 'tensor', ['bfloat16', 'valid: float16, float32']),
  alone('a ragged nested array', () => k.tensor([[1, 2], [3]]),
    k.ValueError, 'tensor', ['ragged', 'expected 2 elements at [1]']),
  alone('a string element', () => k.tensor(['a'] as never),
    k.ValueError, 'tensor', ['numbers or booleans', 'string at [0]']),
  alone('a typed array too short for its shape', () => k.tensor(new Float32Array(3), { shape: [2, 2] }),
    k.ValueError, 'tensor', ['[2,2]', '4 elements', 'has 3']),
  alone('arange with step 0', () => k.arange(0, 5, 0), k.ValueError, 'arange', ['step must be non-zero']),
  alone('arange that cannot reach its end', () => k.arange(5, 0, 1), k.ValueError, 'arange', ['end 0', 'start 5']),
  alone('linspace with negative steps', () => k.linspace(0, 1, -2),
    k.ValueError, 'linspace', ['non-negative integer', 'got -2']),
  alone('eye with a negative size', () => k.eye(-1), k.ValueError, 'eye', ['non-negative integer', 'got -1']),
  alone('zerosLike of a string', () => k.zerosLike('x' as never),
    k.ValueError, 'zerosLike', ['expects a tensor', '"x"']),
  alone('manualSeed(NaN)', () => k.manualSeed(NaN), k.ValueError, 'manualSeed', ['non-negative safe integer', 'NaN']),
];

export const opMistakes: Mistake[] = [
  // Elementwise.
  onX('add with shapes that do not broadcast', (x) => x.add(k.zeros([4])), k.ShapeError, 'add', ['[2,3]', '[4]']),
  onX('mul by a string', (x) => x.mul('a' as never), k.DTypeError, 'mul', ['tensors, numbers or booleans', 'string']),
  onX('pow with a string exponent', (x) => x.pow('2' as never), k.DTypeError, 'pow', ['tensors, numbers or booleans']),
  onX('clamp with a string bound', (x) => k.clamp(x, 'a' as never, 1),
    k.DTypeError, 'clamp', ['tensors, numbers or booleans', 'string']),
  onX('logicalNot of a string', () => k.logicalNot('x' as never),
    k.DTypeError, 'logicalNot', ['tensors, numbers or booleans']),
  onX('where with branches that do not broadcast', (x) => k.where(x.gt(0), x, k.zeros([4])),
    k.ShapeError, 'where', ['[2,3]', '[4]']),
  onX('cast to an unknown dtype', (x) => x.cast('int8' as never), k.DTypeError, 'cast', ['int8', 'valid: float16, float32']),
  // Contraction.
  onX('matmul with inner sizes that differ', (x) => x.matmul(k.zeros([4, 5])),
    k.ShapeError, 'matmul', ['[2,3] @ [4,5]', '3 and 4']),
  onX('matmul with a 0-d operand', (x) => k.matmul(k.tensor(1), x), k.ShapeError, 'matmul', ['at least 1 dim']),
  onX('matmul with a string', (x) => x.matmul('x' as never), k.DTypeError, 'matmul', ['tensors']),
  // Reductions.
  onX("sum('1')", (x) => x.sum('1' as never), k.ShapeError, 'sum', ['integer or a list of integers', '"1"']),
  onX('sum over an axis out of range', (x) => x.sum(2), k.ShapeError, 'sum', ['axis 2', 'valid: -2..1']),
  onX('sum over a repeated axis', (x) => x.sum([1, -1]), k.ShapeError, 'sum', ['appears twice', '[1,-1]']),
  onX('sum with a string keepdim', (x) => x.sum(0, 'yes' as never),
    k.ValueError, 'sum', ['keepdim', 'true or false', '"yes"']),
  onX('mean over a fractional axis', (x) => x.mean(1.5), k.ShapeError, 'mean', ['axis 1.5', 'valid: -2..1']),
  onX('max over an empty dim', (x) => x.slice(1, 0, 0).max(1), k.ShapeError, 'max', ['empty']),
  onX('softmax over a string axis', (x) => x.softmax('x' as never),
    k.ShapeError, 'softmax', ['axis must be an integer', '"x"']),
  onX('argmax over an axis out of range', (x) => x.argmax(2), k.ShapeError, 'argmax', ['axis 2', 'valid: -2..1']),
  // Views.
  onX('slice of a 0-d tensor', () => k.tensor(1).slice(0, 0, 1),
    k.ShapeError, 'slice', ['0-d tensor', 'reshape it to [1]']),
  onX('narrow of a 0-d tensor', () => k.tensor(1).narrow(0, 0, 1), k.ShapeError, 'narrow', ['0-d tensor']),
  onX('split of a 0-d tensor', () => k.tensor(1).split(1), k.ShapeError, 'split', ['0-d tensor']),
  onX('slice with step 0', (x) => x.slice(0, 0, 2, 0), k.ValueError, 'slice', ['positive integer', 'got 0']),
  onX('slice with a fractional start', (x) => x.slice(0, 0.5),
    k.ValueError, 'slice', ['start must be an integer', '0.5']),
  onX('narrow past the end', (x) => x.narrow(1, 2, 2), k.ShapeError, 'narrow', ['start 2', 'length 2', 'size 3']),
  onX('reshape to a different size', (x) => x.reshape([4, 4]), k.ShapeError, 'reshape', ['[2,3]', '[4,4]']),
  onX('reshape with two -1', (x) => x.reshape([-1, -1]), k.ShapeError, 'reshape', ['only one dimension can be -1']),
  onX('permute repeating a dim', (x) => x.permute([0, 0]), k.ShapeError, 'permute', ['[0,0]', 'repeats']),
  onX('expand to fewer dims', (x) => x.expand([3]), k.ShapeError, 'expand', ['[3]', '[2,3]']),
  onX('transpose with an axis out of range', (x) => x.transpose(0, 2),
    k.ShapeError, 'transpose', ['axis 2', 'valid: -2..1']),
  onX('pad with a string value', (x) => k.pad(x, [1, 1], 'x' as never), k.ValueError, 'pad', ['value', '"x"']),
  onX('pad with an odd list', (x) => k.pad(x, [1]), k.ShapeError, 'pad', ['even-length', '[1]']),
  onX('split into sizes that do not sum up', (x) => x.split([1, 1], 1),
    k.ShapeError, 'split', ['[1,1]', 'summing to 3']),
  onX('cat of mismatched shapes', (x) => k.cat([x, k.zeros([2, 2])], 0), k.ShapeError, 'cat', ['[2,3]', '[2,2]']),
  onX('cat of an empty list', () => k.cat([]), k.ValueError, 'cat', ['non-empty']),
  onX('stack of mismatched shapes', (x) => k.stack([x, k.zeros([3, 2])]), k.ShapeError, 'stack', ['[2,3]', '[3,2]']),
  // Indexing.
  onX('gather with a float index', (x) => k.gather(x, 1, f32([0, 1], [2, 1])),
    k.DTypeError, 'gather', ['int32', 'float32']),
  onX('gather with an index out of range', (x) => k.gather(x, 1, k.tensor([[3], [0]], { dtype: 'int32' })),
    k.ValueError, 'gather', ['index 3', 'valid: 0..2']),
  onX('indexSelect with a float index', (x) => x.indexSelect(0, f32([1])),
    k.DTypeError, 'indexSelect', ['int32', 'float32']),
  onX('scatterAdd with an index out of range',
    (x) => k.scatterAdd(x, 1, k.tensor([[5, 0, 0], [0, 0, 0]], { dtype: 'int32' }), x),
    k.ValueError, 'scatterAdd', ['index 5', 'valid: 0..2']),
  onX('oneHot with a class past numClasses', () => k.oneHot(i32([3]), 2),
    k.ShapeError, 'oneHot', ['0..1', 'from 3 to 3']),
  // In place: the target keeps its values.
  onX("fill_ with a string", (x) => x.fill_('x' as never), k.ValueError, 'fill_', ['number or a boolean', '"x"']),
  onX('add_ of a string', (x) => x.add_('x' as never), k.ValueError, 'add_', ['number or a boolean', '"x"']),
  onX('add_ that would grow the target', (x) => x.add_(k.ones([4, 2, 3])), k.ShapeError, 'add_', ['[4,2,3]', '[2,3]']),
  onX('mul_ storing floats into int32', () => i32([1, 2]).mul_(0.5), k.DTypeError, 'mul_', ['float32', 'int32']),
  onX('add_ through an expanded view', (x) => x.narrow(0, 0, 1).expand([4, 3]).add_(1),
    k.ValueError, 'add_', ['stride 0', 'clone()']),
  onX('copy_ from a disposed tensor', (x) => { const y = k.ones([3]); y.dispose(); return x.copy_(y); },
    k.ValueError, 'copy_', ['disposed']),
  // Reading values.
  onX('item of a disposed tensor', () => { const t = f32([1]); t.dispose(); return t.item(); },
    k.ValueError, 'item()', ['float32[1]', 'disposed']),
  onX('toArray of a disposed tensor', () => { const t = f32([1, 2]); t.dispose(); return t.toArray(); },
    k.ValueError, 'toArray()', ['float32[2]', 'disposed']),
  onX('data of a disposed tensor', () => { const t = f32([1, 2]); t.dispose(); return t.data(); },
    k.ValueError, 'data()', ['disposed']),
  onX('an op on a disposed tensor', () => { const t = f32([1, 2]); t.dispose(); return t.exp(); },
    k.ValueError, 'exp', ['disposed']),
  onX('item of a tensor with several elements', (x) => x.item(),
    k.ValueError, 'item', ['6 elements', '[2,3]', 'one-element']),
  // Autograd.
  onX('backward from a non-scalar without a gradient', (x) => x.clone().requiresGrad_().mul(2).backward(),
    k.AutogradError, 'backward', ['[2,3]', 'backward(gradient)']),
  onX('requiresGrad on an int32 tensor', () => i32([1]).requiresGrad_(),
    k.DTypeError, 'requiresGrad', ['float', 'int32']),
  onX('a gradient of the wrong shape', (x) => { x.grad = k.zeros([3]); }, k.ValueError, 'grad', ['[3]', '[2,3]']),
  onX('an in-place op on a leaf that requires grad', () => f32([1]).requiresGrad_().add_(1),
    k.AutogradError, 'add_', ['leaf', 'noGrad']),
];
