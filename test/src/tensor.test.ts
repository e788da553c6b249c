import { describe, expect, it } from 'vitest';
import { Tensor, ValueError, arange, ones, tensor, zeros } from '../../src/index.js';
import { uniform } from '../helpers.js';
import { seeded } from './multi-index.js';

describe('item', () => {
  it('reads the one element of 0-d, [1] and [1,1,1] tensors, and of views with an offset', () => seeded((next) => {
    const v = Math.fround(uniform(next, 1, -100, 100)[0]!);
    expect(tensor(v).item()).toBe(v);
    expect(tensor([v]).item()).toBe(v);
    expect(tensor([[[v]]]).item()).toBe(v);
    expect(tensor(-3, { dtype: 'int32' }).item()).toBe(-3);
    expect(tensor(0.1, { dtype: 'float64' }).item()).toBe(0.1);
    expect(tensor(true).item()).toBe(1);
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(x.slice(0, 1).slice(1, 2).item()).toBe(6);
    expect(x.t().slice(0, 1, 2).slice(1, 1).item()).toBe(5);
    expect(ones([1]).expand([1, 1]).item()).toBe(1);
  }));

  it('throws for any other number of elements', () => {
    expect(() => tensor([1, 2]).item()).toThrow(ValueError);
    expect(() => tensor([1, 2]).item()).toThrow(/item: a tensor with 2 elements \(shape \[2\]\) cannot be converted to a number/);
    expect(() => zeros([0]).item()).toThrow(/0 elements/);
  });
});

describe('toArray', () => {
  it('gives nested arrays in logical order, a number for 0-d, booleans for bool', () => seeded((next) => {
    const vals = uniform(next, 6, -10, 10).map(Math.fround);
    const x = tensor(Float32Array.from(vals), { shape: [2, 3] });
    expect(x.toArray()).toEqual([vals.slice(0, 3), vals.slice(3)]);
    expect(x.t().toArray()).toEqual([[vals[0], vals[3]], [vals[1], vals[4]], [vals[2], vals[5]]]);
    expect(x.slice(1, 1, null, 2).toArray()).toEqual([[vals[1]], [vals[4]]]);
    expect(tensor(2.5).toArray()).toBe(2.5);
    expect(tensor(true).toArray()).toBe(true);
    expect(tensor([[true, false], [false, true]]).t().toArray()).toEqual([[true, false], [false, true]]);
    expect(tensor([1, 0, 2], { dtype: 'int32' }).toArray()).toEqual([1, 0, 2]);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(zeros([0]).toArray()).toEqual([]);
    expect(tensor([[[1]], [[2]]]).toArray()).toEqual([[[1]], [[2]]]);
  }));
});

describe('data', () => {
  it('returns a fresh row-major copy: writing to it leaves the tensor unchanged', () => seeded((next) => {
    const vals = uniform(next, 12, -10, 10).map(Math.fround);
    const x = tensor(Float32Array.from(vals), { shape: [3, 4] });
    const d = x.data();
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d)).toEqual(vals);
    expect(d).not.toBe(x.storage.buffer);
    d.fill(99);
    expect(Array.from(x.data())).toEqual(vals);
    // A strided view: its own elements only, in logical order.
    const v = x.t().slice(0, 1, 3);
    const expected = [1, 2].flatMap((c) => [0, 1, 2].map((r) => vals[r * 4 + c]!));
    const dv = v.data();
    expect(Array.from(dv)).toEqual(expected);
    dv[0] = -1;
    expect(Array.from(v.data())).toEqual(expected);
    expect(Array.from(x.data())).toEqual(vals);
    // A contiguous view with an offset.
    const row = x.slice(0, 2);
    const dr = row.data();
    expect(Array.from(dr)).toEqual(vals.slice(8));
    dr[0] = 1234;
    expect(x.data()[8]).toBe(vals[8]);
  }));

  it('uses the typed array of the dtype', () => {
    expect(tensor([1], { dtype: 'float64' }).data()).toBeInstanceOf(Float64Array);
    expect(tensor([1], { dtype: 'int32' }).data()).toBeInstanceOf(Int32Array);
    expect(tensor([true]).data()).toBeInstanceOf(Uint8Array);
    expect(Array.from(tensor([true, false]).expand([2, 2]).data())).toEqual([1, 0, 1, 0]);
  });
});

describe('toString', () => {
  it('integral floats print with a trailing dot', () => {
    expect(tensor([1, 2]).toString()).toMatchInlineSnapshot(`"tensor([1., 2.])"`);
    expect(tensor([[1, -2], [30, 4]]).toString()).toMatchInlineSnapshot(`
      "tensor([[ 1., -2.],
              [30.,  4.]])"
    `);
    expect(tensor([-0, 1]).toString()).toMatchInlineSnapshot(`"tensor([-0., 1.])"`);
  });

  it('other floats share 4 decimals and a column width', () => {
    expect(tensor([[0.09003057, 0.24472847, 0.66524096], [0.5, 0.25, 0.125]]).toString()).toMatchInlineSnapshot(`
      "tensor([[0.0900, 0.2447, 0.6652],
              [0.5000, 0.2500, 0.1250]])"
    `);
    expect(tensor([-1.5, 2, NaN, Infinity]).toString()).toMatchInlineSnapshot(`"tensor([-1.5000,  2.0000,     nan,     inf])"`);
    expect(tensor([0.25, -0.125], { dtype: 'float64' }).toString()).toMatchInlineSnapshot(`"tensor([ 0.2500, -0.1250], dtype=float64)"`);
  });

  it('rounds exact ties to even, like Python formatting', () => {
    // 0.03125 and 0.09375 are exact binary fractions halfway between two 4-decimal values.
    expect(tensor([0.03125, 0.09375, 0.15625]).toString()).toMatchInlineSnapshot(`"tensor([0.0312, 0.0938, 0.1562])"`);
  });

  it('switches to scientific notation for wide ranges, tiny or huge values', () => {
    expect(tensor([1e-5, 1]).toString()).toMatchInlineSnapshot(`"tensor([1.0000e-05, 1.0000e+00])"`);
    expect(tensor([1, 2000]).toString()).toMatchInlineSnapshot(`"tensor([1.0000e+00, 2.0000e+03])"`);
    expect(tensor([1.5, 1e9]).toString()).toMatchInlineSnapshot(`"tensor([1.5000e+00, 1.0000e+09])"`);
  });

  it('int32 and bool', () => {
    expect(tensor([[1, -20], [300, 4]], { dtype: 'int32' }).toString()).toMatchInlineSnapshot(`
      "tensor([[  1, -20],
              [300,   4]], dtype=int32)"
    `);
    expect(tensor([true, false]).toString()).toMatchInlineSnapshot(`"tensor([ True, False])"`);
    expect(tensor([[true], [true]]).toString()).toMatchInlineSnapshot(`
      "tensor([[True],
              [True]])"
    `);
  });

  it('0-d and empty tensors', () => {
    expect(tensor(3.5).toString()).toMatchInlineSnapshot(`"tensor(3.5000)"`);
    expect(tensor(2).toString()).toMatchInlineSnapshot(`"tensor(2.)"`);
    expect(tensor(7, { dtype: 'int32' }).toString()).toMatchInlineSnapshot(`"tensor(7, dtype=int32)"`);
    expect(tensor(false).toString()).toMatchInlineSnapshot(`"tensor(False)"`);
    expect(tensor([]).toString()).toMatchInlineSnapshot(`"tensor([])"`);
    expect(zeros([2, 0]).toString()).toMatchInlineSnapshot(`"tensor([], size=[2, 0])"`);
    expect(zeros([0], { dtype: 'int32' }).toString()).toMatchInlineSnapshot(`"tensor([], dtype=int32)"`);
  });

  it('long rows wrap at 80 columns', () => {
    expect(arange(0, 2, 0.1).toString()).toMatchInlineSnapshot(`
      "tensor([0.0000, 0.1000, 0.2000, 0.3000, 0.4000, 0.5000, 0.6000, 0.7000, 0.8000,
              0.9000, 1.0000, 1.1000, 1.2000, 1.3000, 1.4000, 1.5000, 1.6000, 1.7000,
              1.8000, 1.9000])"
    `);
  });

  it('large tensors are summarized with ...', () => {
    expect(ones([1001]).toString()).toMatchInlineSnapshot(`"tensor([1., 1., 1.,  ..., 1., 1., 1.])"`);
    expect(arange(1200).reshape([30, 40]).toString()).toMatchInlineSnapshot(`
      "tensor([[   0,    1,    2,  ...,   37,   38,   39],
              [  40,   41,   42,  ...,   77,   78,   79],
              [  80,   81,   82,  ...,  117,  118,  119],
              ...,
              [1080, 1081, 1082,  ..., 1117, 1118, 1119],
              [1120, 1121, 1122,  ..., 1157, 1158, 1159],
              [1160, 1161, 1162,  ..., 1197, 1198, 1199]], dtype=int32)"
    `);
    expect(arange(2000, undefined, 1, { dtype: 'float32' }).toString()).toMatchInlineSnapshot(`
      "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,
              1.9990e+03])"
    `);
    expect(arange(8 * 8 * 20).reshape([8, 8, 20]).toString()).toMatchInlineSnapshot(`
      "tensor([[[   0,    1,    2,  ...,   17,   18,   19],
               [  20,   21,   22,  ...,   37,   38,   39],
               [  40,   41,   42,  ...,   57,   58,   59],
               ...,
               [ 100,  101,  102,  ...,  117,  118,  119],
               [ 120,  121,  122,  ...,  137,  138,  139],
               [ 140,  141,  142,  ...,  157,  158,  159]],

              [[ 160,  161,  162,  ...,  177,  178,  179],
               [ 180,  181,  182,  ...,  197,  198,  199],
               [ 200,  201,  202,  ...,  217,  218,  219],
               ...,
               [ 260,  261,  262,  ...,  277,  278,  279],
               [ 280,  281,  282,  ...,  297,  298,  299],
               [ 300,  301,  302,  ...,  317,  318,  319]],

              [[ 320,  321,  322,  ...,  337,  338,  339],
               [ 340,  341,  342,  ...,  357,  358,  359],
               [ 360,  361,  362,  ...,  377,  378,  379],
               ...,
               [ 420,  421,  422,  ...,  437,  438,  439],
               [ 440,  441,  442,  ...,  457,  458,  459],
               [ 460,  461,  462,  ...,  477,  478,  479]],

              ...,

              [[ 800,  801,  802,  ...,  817,  818,  819],
               [ 820,  821,  822,  ...,  837,  838,  839],
               [ 840,  841,  842,  ...,  857,  858,  859],
               ...,
               [ 900,  901,  902,  ...,  917,  918,  919],
               [ 920,  921,  922,  ...,  937,  938,  939],
               [ 940,  941,  942,  ...,  957,  958,  959]],

              [[ 960,  961,  962,  ...,  977,  978,  979],
               [ 980,  981,  982,  ...,  997,  998,  999],
               [1000, 1001, 1002,  ..., 1017, 1018, 1019],
               ...,
               [1060, 1061, 1062,  ..., 1077, 1078, 1079],
               [1080, 1081, 1082,  ..., 1097, 1098, 1099],
               [1100, 1101, 1102,  ..., 1117, 1118, 1119]],

              [[1120, 1121, 1122,  ..., 1137, 1138, 1139],
               [1140, 1141, 1142,  ..., 1157, 1158, 1159],
               [1160, 1161, 1162,  ..., 1177, 1178, 1179],
               ...,
               [1220, 1221, 1222,  ..., 1237, 1238, 1239],
               [1240, 1241, 1242,  ..., 1257, 1258, 1259],
               [1260, 1261, 1262,  ..., 1277, 1278, 1279]]], dtype=int32)"
    `);
  });

  it('prints a view by its logical elements', () => {
    expect(tensor([[1, 2, 3], [4, 5, 6]]).t().slice(0, 1).toString()).toMatchInlineSnapshot(`
      "tensor([[2., 5.],
              [3., 6.]])"
    `);
  });
});

describe('conversion to primitives', () => {
  it('the seed while loop: one-element tensors compare as numbers', () => {
    let first = tensor([0]), second = tensor([10]);
    while (first < second) {
      first = first.add(2);
      second = second.add(1);
    }
    expect(first.item()).toBe(20);
    expect(second.item()).toBe(20);
    expect(first).toBeInstanceOf(Tensor);
  });

  it('the loop matches the same loop on plain numbers for random starting pairs', () => seeded((next) => {
    for (let trial = 0; trial < 20; trial++) {
      // Multiples of 0.5 keep every float32 step exact, so both loops see the same values.
      const a0 = Math.round(uniform(next, 1, -100, 100)[0]! * 2) / 2;
      const b0 = Math.round(uniform(next, 1, -100, 100)[0]! * 2) / 2;
      let a = a0, b = b0, na = 0;
      while (a < b) {
        a += 2;
        b += 1;
        na++;
      }
      let first = tensor([a0]), second = tensor(b0), nt = 0;
      while (first < second) {
        first = first.add(2);
        second = second.add(1);
        nt++;
      }
      expect([first.item(), second.item(), nt], `start ${a0}, ${b0}`).toEqual([a, b, na]);
    }
  }));

  it('other comparisons and unary plus use the value', () => {
    const three = tensor([[3]]);
    expect(three > tensor(2)).toBe(true);
    expect(three <= tensor(3)).toBe(true);
    expect(three >= tensor([3.5])).toBe(false);
    expect(+three).toBe(3);
    expect(Number(tensor(2.5))).toBe(2.5);
    expect(Math.max(tensor([1]) as unknown as number, 0.5)).toBe(1);
  });

  it('template literals and String() give the printed form, for any size', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(`${x}`).toBe(x.toString());
    expect(`${tensor(1.5)}`).toBe('tensor(1.5000)');
    expect(String(tensor([true, false]))).toBe('tensor([ True, False])');
  });

  it('a tensor of several (or zero) elements in a comparison throws the ambiguity error', () => {
    const x = tensor([1, 2]);
    expect(() => x < tensor([3])).toThrow(ValueError);
    expect(() => x < tensor([3])).toThrow(/a tensor of shape \[2\] with 2 elements is ambiguous as a number or boolean/);
    expect(() => tensor([5]) > x).toThrow(/ambiguous/);
    expect(() => +zeros([0])).toThrow(/with 0 elements is ambiguous/);
    expect(() => +x).toThrow(ValueError);
  });
});
