import { describe, expect, it } from 'vitest';
import { tensor } from '../src/index.js';
import { expectAllClose } from './helpers.js';

describe('expectAllClose', () => {
  it('accepts equal values and matching NaN/Inf', () => {
    expectAllClose(tensor([1, NaN, Infinity, -Infinity]), [1, NaN, Infinity, -Infinity]);
  });
  it('rejects NaN against a number, Inf against NaN, and a wrong shape', () => {
    expect(() => expectAllClose(tensor([NaN]), [1])).toThrow(/element 0/);
    expect(() => expectAllClose(tensor([Infinity]), [NaN])).toThrow(/element 0/);
    expect(() => expectAllClose(tensor([1, 2]), [[1, 2]])).toThrow();
  });
  it('tells -0 from 0 only when asked', () => {
    expectAllClose(tensor([-0]), [0]);
    expect(() => expectAllClose(tensor([-0]), [0], { signedZero: true })).toThrow(/-0/);
  });
});
