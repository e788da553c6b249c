/**
 * How the Wasm kernels fold a reduction: one float64 accumulator a position at a time, or
 * four float32 lanes a vector at a time (LaneFold). Eager reductions and the reduce passes
 * of row kernels fold through these same functions, so jit and eager agree bit for bit.
 *
 * max and min do not depend on the order of the values, so lanes, unrolled accumulators,
 * the scalar tail and a fold one element at a time all give the same bits: a NaN anywhere
 * gives the canonical quiet NaN (whatever the NaN's own bits were), zeros are equal and a
 * zero max or min is +0 (the JavaScript kernels, ../js.ts, and the reference evaluator keep
 * the same rule).
 */
import { InternalError } from '../../../runtime/errors.js';
import { unreachable } from '../../../runtime/unreachable.js';
import type { ReduceSpec } from '../../kernel.js';
import type { Code } from './encoder.js';

/** The accumulator's start value of each fold. */
export const FOLD_START: Record<'sum' | 'prod' | 'max' | 'min', number> = {
  sum: 0, prod: 1, max: -Infinity, min: Infinity,
};

/**
 * Folds the float64 value in local `v` into accumulator `acc`. max and min compare `v`
 * with its zero made +0 (x + 0 is x with -0 made +0), and a NaN makes `acc` the canonical
 * NaN, which no later comparison replaces.
 */
export function foldStep(c: Code, op: ReduceSpec['op'], acc: number, v: number): void {
  switch (op) {
    case 'sum': c.get(acc).get(v).op('f64.add').set(acc); return;
    case 'prod': c.get(acc).get(v).op('f64.mul').set(acc); return;
    case 'max': case 'min': {
      const u = c.local('f64');
      c.get(v).f64(0).op('f64.add').set(u);
      c.f64(NaN).get(u).get(acc).get(u).get(acc).op(op === 'max' ? 'f64.gt' : 'f64.lt').op('select');
      c.get(v).get(v).op('f64.ne').op('select').set(acc);
      return;
    }
    case 'argmax': case 'argmin':
      throw new InternalError(`wasm reduce: ${op} folds with its position`);
    default: unreachable(op, 'wasm reduce: op');
  }
}

/**
 * How many groups of accumulators a vector fold of `op` keeps (its loop unrolled as often).
 * Over [4096,1024] rows, one thread, median of interleaved rounds on the loaded 2-core
 * machine: a sum 0.81 ms with one group, 0.75 with two, 0.75 with four; a max 0.90, 0.64, 0.63.
 */
export function foldGroups(op: 'sum' | 'max' | 'min'): number {
  return op === 'sum' ? 2 : 4;
}

/** Byte lanes of i8x16.shuffle: the high two float32 lanes of the first operand moved down. */
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

/**
 * Folds four float32 lanes at a time into `groups` sets of accumulators (a loop unrolled
 * `groups` times feeds group 0, 1, … in turn; see nest), in an order that depends on the
 * row's length alone, so eager and jit, and every thread count, give the same bits. A
 * vector add or compare has 3 to 4 cycles of latency: one chain of them holds a fold of
 * anything cheap to a vector per 3 to 4 cycles, so cheap folds keep several chains.
 *
 * A sum adds each group's vector into two f64x2 accumulators (lanes 0, 1 and lanes 2, 3):
 * float64 sums, as the scalar fold's. At the end the groups' accumulators are added in a
 * balanced tree ((g0 + g1) + (g2 + g3)), then the lanes as ((0 + 1) + (2 + 3)), then the
 * scalar accumulator (the tail).
 *
 * A max keeps per group f32x4.pmax of the values with -0 made +0 (one instruction, where
 * f32x4.max is seven in V8 with a longer chain: a max over [4096,1024], one thread, four
 * groups, 0.85 ms this way, 1.72 with f32x4.max; one group of either, 2.6 and 8.9 ms), and
 * beside it a mask of the lanes that met a NaN; a min likewise with f32x4.pmin.
 */
export class LaneFold {
  private readonly accs: number[][];

  constructor(private readonly c: Code, private readonly op: 'sum' | 'max' | 'min', readonly groups = 1) {
    this.accs = Array.from({ length: groups }, () => {
      const a = c.local('v128'), b = c.local('v128');
      if (op === 'sum') c.f32x4([0, 0, 0, 0]).set(a).f32x4([0, 0, 0, 0]).set(b);
      else c.f32x4([FOLD_START[op], FOLD_START[op], FOLD_START[op], FOLD_START[op]]).set(a).i32x4([0, 0, 0, 0]).set(b);
      return [a, b];
    });
  }

  /** Whether `op` over `dtype` folds four lanes at a time. */
  static covers(op: ReduceSpec['op'], dtype: string): op is 'sum' | 'max' | 'min' {
    return dtype === 'float32' && (op === 'sum' || op === 'max' || op === 'min');
  }

  /** Folds the f32x4 in local `v` into group `group`. */
  add(v: number, group = 0): void {
    const { c } = this;
    const [a, b] = this.accs[group]!;
    if (this.op === 'sum') {
      c.get(a!).get(v).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(a!);
      c.get(b!).get(v).get(v).shuffle(HIGH).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(b!);
      return;
    }
    c.get(a!).get(v).f32x4([0, 0, 0, 0]).simd('f32x4.add');
    c.simd(this.op === 'max' ? 'f32x4.pmax' : 'f32x4.pmin').set(a!);
    c.get(b!).get(v).get(v).simd('f32x4.ne').simd('v128.or').set(b!);
  }

  /** Merges every group's accumulator `k` into group 0's, pairwise: ((g0 op g1) op (g2 op g3)). */
  private merge(k: number, op: 'f64x2.add' | 'f32x4.pmax' | 'f32x4.pmin' | 'v128.or'): number {
    const { c } = this;
    let level = this.accs.map((g) => g[k]!);
    while (level.length > 1) {
      const next: number[] = [];
      for (let j = 0; j + 1 < level.length; j += 2) {
        c.get(level[j]!).get(level[j + 1]!).simd(op).set(level[j]!);
        next.push(level[j]!);
      }
      if (level.length % 2 === 1) next.push(level[level.length - 1]!);
      level = next;
    }
    return level[0]!;
  }

  /** Pushes a max or min's four lanes, each its own fold: NaN where a NaN was met. */
  private pushExtremes(): void {
    const { c } = this;
    const a = this.merge(0, this.op === 'max' ? 'f32x4.pmax' : 'f32x4.pmin'), nan = this.merge(1, 'v128.or');
    c.f32x4([NaN, NaN, NaN, NaN]).get(a).get(nan).simd('v128.bitselect');
  }

  /** Pushes each lane's fold as an f32x4 (where every lane is its own output's accumulator; one group). */
  pushLanes(): void {
    const { c } = this;
    const [a, b] = this.accs[0]!;
    if (this.op !== 'sum') return this.pushExtremes();
    c.get(a!).simd('f32x4.demote_f64x2_zero').get(b!).simd('f32x4.demote_f64x2_zero');
    c.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
  }

  /** Folds the lanes into the float64 accumulator `acc`: a sum as ((0 + 1) + (2 + 3)) + acc. */
  into(acc: number): void {
    const { c } = this;
    if (this.op === 'sum') {
      const a = this.merge(0, 'f64x2.add'), b = this.merge(1, 'f64x2.add');
      c.get(a).lane('f64x2.extract_lane', 0).get(a).lane('f64x2.extract_lane', 1).op('f64.add');
      c.get(b).lane('f64x2.extract_lane', 0).get(b).lane('f64x2.extract_lane', 1).op('f64.add');
      c.op('f64.add').get(acc).op('f64.add').set(acc);
      return;
    }
    const lanes = c.local('v128');
    this.pushExtremes();
    c.set(lanes);
    const v = c.local('f64');
    for (let lane = 0; lane < 4; lane++) {
      c.get(lanes).lane('f32x4.extract_lane', lane).op('f64.promote_f32').set(v);
      foldStep(c, this.op, acc, v);
    }
  }
}
