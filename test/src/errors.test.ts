/**
 * Errors users see: the class (a KilnError subclass), the message (`<op>: <problem>`), and
 * that a failed op leaves its inputs exactly as they were.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectAllClose } from '../helpers.js';

/** Runs `f`, expecting it to throw; returns the error. */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`threw a non-Error: ${String(e)}`);
  }
  throw new Error('expected an error, but nothing was thrown');
}

/** Expects `f` to throw `cls` (a KilnError) with exactly `message` (or matching it). */
function expectError(f: () => unknown, cls: new (...a: never[]) => Error, message: string | RegExp): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(cls);
  expect(e).toBeInstanceOf(k.KilnError);
  expect(e.name).toBe(cls.name);
  if (typeof message === 'string') expect(e.message).toBe(message);
  else expect(e.message).toMatch(message);
}

/** A snapshot of a tensor's observable state: values, shape, dtype and storage version. */
function snapshot(t: Tensor): { values: number[]; shape: number[]; dtype: string; version: number } {
  return { values: Array.from(t.data(), Number), shape: t.shape.slice(), dtype: t.dtype, version: t.storage.version };
}

describe('error classes', () => {
  it('every kiln error is a KilnError and an Error, with its own name', () => {
    for (const cls of [k.ShapeError, k.DTypeError, k.ValueError, k.DeviceError, k.InternalError]) {
      const e = new cls('x');
      expect(e).toBeInstanceOf(k.KilnError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(cls.name);
    }
  });
  it('an InternalError says internal, so a bug is never mistaken for a user error', () => {
    expect(new k.InternalError('broken').message).toBe('internal: broken');
  });
});

describe('broadcasting', () => {
  it('names the op and both shapes', () => {
    expectError(() => k.add(k.zeros([2, 3]), k.zeros([4])), k.ShapeError, 'add: cannot broadcast [2,3] with [4]');
    expectError(() => k.zeros([2, 3]).mul(k.zeros([2])), k.ShapeError, 'mul: cannot broadcast [2,3] with [2]');
    expectError(() => k.gt(k.zeros([3]), k.zeros([2])), k.ShapeError, /^gt: cannot broadcast \[\d\] with \[\d\]$/);
    expectError(() => k.where(k.tensor([true, false]), k.zeros([3]), 1), k.ShapeError, 'where: cannot broadcast [2] with [3]');
  });
});

describe('axes out of range', () => {
  const x = k.zeros([2, 3]);
  it.each([
    { op: 'sum', axis: 2, f: () => x.sum(2) },
    { op: 'sum', axis: 2, f: () => x.sum([0, 2]) },
    { op: 'mean', axis: 2, f: () => x.mean(2) },
    { op: 'var', axis: -3, f: () => x.var(-3) },
    { op: 'std', axis: 5, f: () => x.std(5) },
    { op: 'prod', axis: -3, f: () => x.prod(-3) },
    { op: 'max', axis: -3, f: () => x.max(-3) },
    { op: 'argmax', axis: 2, f: () => x.argmax(2) },
    { op: 'argmin', axis: -3, f: () => x.argmin(-3) },
    { op: 'logsumexp', axis: 3, f: () => x.logsumexp(3) },
    { op: 'softmax', axis: 2, f: () => x.softmax(2) },
    { op: 'logSoftmax', axis: -3, f: () => x.logSoftmax(-3) },
    { op: 'any', axis: 2, f: () => x.any(2) },
    { op: 'transpose', axis: 2, f: () => x.transpose(0, 2) },
    { op: 'slice', axis: 2, f: () => x.slice(2, 0, 1) },
  ])('$op, axis $axis', ({ op, axis, f }) => {
    expectError(f, k.ShapeError, `${op}: axis ${axis} is out of range for a tensor of 2 dims (valid: -2..1)`);
  });
  it('a repeated axis', () => {
    expectError(() => x.sum([1, -1]), k.ShapeError, 'sum: axis -1 appears twice in [1,-1]');
  });
});

describe('matmul', () => {
  it('names both shapes and the inner sizes', () => {
    expectError(() => k.matmul(k.zeros([2, 3]), k.zeros([4, 5])), k.ShapeError, 'matmul: [2,3] @ [4,5]: inner sizes 3 and 4 differ');
    expectError(() => k.zeros([3]).matmul(k.zeros([4])), k.ShapeError, 'matmul: [3] @ [4]: inner sizes 3 and 4 differ');
  });
  it('rejects 0-d operands and bool', () => {
    expectError(() => k.matmul(k.tensor(1), k.zeros([2])), k.ShapeError, /^matmul: operands must have at least 1 dim/);
    expectError(() => k.matmul(k.tensor([[true]]), k.tensor([[true]])), k.DTypeError, /^matmul: bool operands are not supported/);
  });
});

describe('creation', () => {
  it('a ragged nested array is a ValueError that says where', () => {
    expectError(() => k.tensor([[1, 2], [3]]), k.ValueError, 'tensor: ragged nested array: expected 2 elements at [1] (shape so far [2,2]), got 1');
    expectError(() => k.tensor([1, [2]] as never), k.ValueError, /^tensor: elements must be numbers or booleans \(got an array at \[1\]\)$/);
    expectError(() => k.tensor([[1], 2] as never), k.ValueError, /^tensor: ragged nested array/);
    expectError(() => k.tensor(['a'] as never), k.ValueError, 'tensor: elements must be numbers or booleans (got string at [0])');
  });

  it('a typed array whose length does not fit the shape', () => {
    expectError(() => k.tensor(new Float32Array(3), { shape: [2, 2] }), k.ValueError, 'tensor: shape [2,2] needs 4 elements, the array has 3');
  });

  it.each([
    { op: 'tensor', f: () => k.tensor([1], { dtype: 'bfloat16' as never }), name: 'bfloat16' },
    { op: 'zeros', f: () => k.zeros([2], { dtype: 'int16' as never }), name: 'int16' },
    { op: 'full', f: () => k.full([2], 1, { dtype: 'uint16' as never }), name: 'uint16' },
    { op: 'arange', f: () => k.arange(3, undefined, 1, { dtype: 'f32' as never }), name: 'f32' },
    { op: 'eye', f: () => k.eye(2, 2, { dtype: 'double' as never }), name: 'double' },
    { op: 'rand', f: () => k.rand([2], { dtype: 'half' as never }), name: 'half' },
    { op: 'cast', f: () => k.zeros([2]).cast('int8' as never), name: 'int8' },
  ])('$op: unknown dtype $name', ({ op, f, name }) => {
    expectError(f, k.DTypeError, `${op}: unknown dtype ${name} (valid: float16, float32, float64, int32, uint8, bool, int64)`);
  });

  it('to() with neither a device nor a dtype lists both', () => {
    const valid = '(devices: cpu, webgpu; dtypes: float16, float32, float64, int32, uint8, bool, int64)';
    expectError(() => k.zeros([2]).to('Float32' as never), k.DTypeError, `to: unknown device or dtype Float32 ${valid}`);
    expectError(() => k.zeros([2]).to('cuda' as never), k.DeviceError, `to: unknown device cuda ${valid}; kiln's GPU device is 'webgpu'`);
  });

  it('random creation of a non-float dtype', () => {
    expectError(() => k.rand([2], { dtype: 'int32' }), k.DTypeError, 'rand: dtype must be float32 or float64 (got int32)');
  });

  it('operands that are not tensors, numbers or booleans', () => {
    expectError(() => k.add(k.zeros([1]), 'a' as never), k.DTypeError, 'add: operands must be tensors, numbers or booleans (got string)');
    expectError(() => k.mul(null as never, 1), k.DTypeError, 'mul: operands must be tensors, numbers or booleans (got null)');
  });
});

describe('manualSeed', () => {
  it.each([
    [NaN, 'NaN'],
    [-1, '-1'],
    [1.5, '1.5'],
    [Infinity, 'Infinity'],
  ])('rejects %s with a ValueError', (seed, shown) => {
    expectError(() => k.manualSeed(seed), k.ValueError, `manualSeed: seed must be a non-negative safe integer (got ${shown})`);
  });
  it('a rejected seed leaves the random stream where it was', () => {
    k.manualSeed(7);
    const first = k.rand([4]).toArray();
    k.manualSeed(7);
    expect(() => k.manualSeed(NaN)).toThrow();
    expect(k.rand([4]).toArray()).toEqual(first);
  });
});

describe('converting a tensor to a JS value', () => {
  it('item() needs exactly one element', () => {
    expectError(() => k.zeros([2]).item(), k.ValueError, 'item: a tensor with 2 elements (shape [2]) cannot be converted to a number; only one-element tensors can');
    expectError(() => k.zeros([0]).item(), k.ValueError, /^item: a tensor with 0 elements \(shape \[0\]\)/);
    expect(k.tensor([[2.5]]).item()).toBe(2.5);
    expect(k.tensor(7, { dtype: 'int32' }).item()).toBe(7);
  });

  it('a multi-element tensor is ambiguous as a number or in a comparison', () => {
    const t = k.tensor([1, 2]);
    const u = k.tensor([0, 3]);
    const ambiguous = /^a tensor of shape \[2\] with 2 elements is ambiguous as a number or boolean; reduce it first/;
    expectError(() => Number(t), k.ValueError, ambiguous);
    expectError(() => (t as unknown as number) < (u as unknown as number), k.ValueError, ambiguous);
    expectError(() => +t, k.ValueError, ambiguous);
  });

  it('a one-element tensor converts, and a tensor prints in a template string', () => {
    expect(Number(k.tensor([[3]]))).toBe(3);
    expect((k.tensor(1) as unknown as number) < (k.tensor(2) as unknown as number)).toBe(true);
    expect(`${k.tensor([1, 2])}`).toContain('tensor(');
  });
});

describe('in-place ops', () => {
  it('cannot broadcast their target up', () => {
    const target = k.tensor([1, 2, 3]);
    const other = k.ones([2, 3]);
    const before = snapshot(target);
    const otherBefore = snapshot(other);
    expectError(() => target.add_(other), k.ShapeError, "add_: the result's shape [2,3] does not match the target's [3] (an in-place op cannot grow its target)");
    expect(snapshot(target)).toEqual(before);
    expect(snapshot(other)).toEqual(otherBefore);
  });

  it('cannot store a float result into an int32 target', () => {
    const target = k.tensor([1, 2, 3], { dtype: 'int32' });
    const before = snapshot(target);
    expectError(() => target.mul_(0.5), k.DTypeError, 'mul_: the result type float32 cannot be stored in the int32 target (cast the target first, or use the out-of-place op)');
    expectError(() => target.add_(k.ones([3])), k.DTypeError, /^add_: the result type float32 cannot be stored in the int32 target/);
    expectError(() => target.div_(1), k.DTypeError, /^div_: the result type float32 cannot be stored in the int32 target/);
    expectError(() => target.sub_(k.ones([1], { dtype: 'float64' })), k.DTypeError, /^sub_: the result type float64 cannot be stored in the int32 target/);
    expect(snapshot(target)).toEqual(before);
  });

  it('cannot store int32 into a bool target', () => {
    const target = k.tensor([true, false]);
    const before = snapshot(target);
    expectError(() => target.add_(1), k.DTypeError, /^add_: the result type int32 cannot be stored in the bool target/);
    expect(snapshot(target)).toEqual(before);
  });

  it('cannot write through an expanded view (elements share memory)', () => {
    const base = k.tensor([5]);
    const view = base.expand([3]);
    const before = snapshot(base);
    expectError(() => view.add_(1), k.ValueError, /^add_: the target \[3\] has dims of stride 0 \(an expanded view\)/);
    expect(snapshot(base)).toEqual(before);
  });

  it('a failed write into a view leaves the base and its other views untouched', () => {
    const base = k.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' });
    const row = base.slice(0, 1, 2);
    const before = snapshot(base);
    expectError(() => row.mul_(1.5), k.DTypeError, /^mul_: /);
    expectError(() => row.add_(k.ones([2, 2, 3], { dtype: 'int32' })), k.ShapeError, /^add_: /);
    expect(snapshot(base)).toEqual(before);
    expect(snapshot(row).version).toBe(before.version);
  });

  it('a successful one writes in place and bumps the version once', () => {
    const target = k.tensor([1, 2, 3], { dtype: 'int32' });
    const v = target.storage.version;
    expect(target.add_(2)).toBe(target);
    expectAllClose(target, [3, 4, 5], { dtype: 'int32' });
    expect(target.storage.version).toBe(v + 1);
    // A widening store is allowed: int32 into float32.
    const f = k.zeros([2]);
    f.add_(k.tensor([1, 2], { dtype: 'int32' }));
    expectAllClose(f, [1, 2], { dtype: 'float32' });
  });
});

describe('a throwing op leaves its inputs unchanged', () => {
  it.each([
    { name: 'add (broadcast)', f: (a: Tensor, b: Tensor) => k.add(a, b.reshape([3, 2]).slice(1, 0, 1).reshape([3])) },
    { name: 'matmul (inner sizes)', f: (a: Tensor, b: Tensor) => k.matmul(b, a) },
    { name: 'sum (axis)', f: (a: Tensor) => a.sum(7) },
    { name: 'where (broadcast)', f: (a: Tensor, b: Tensor) => k.where(k.gt(a, 0), a, b.reshape([6])) },
    { name: 'max (empty dim)', f: (a: Tensor) => a.slice(1, 0, 0).max(1) },
  ])('$name', ({ f }) => {
    const a = k.tensor([[1, -2], [3, 4]]);
    const b = k.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
    const before = [snapshot(a), snapshot(b)];
    expect(() => f(a, b)).toThrow(k.KilnError);
    expect([snapshot(a), snapshot(b)]).toEqual(before);
  });
});
