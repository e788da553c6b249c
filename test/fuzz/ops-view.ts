/** Views: reshape, permute, transpose, slice with steps and negative bounds, narrow, expand, (un)squeeze. */
import { at, build, expandRef, permuteRef, sliceRef, sizeOfShape } from '../src/ref-arrays.js';
import type { OpRecord, RefValue } from './op-record.js';
import type { Params } from './program.js';
import type { Rng } from './rng.js';

function view(name: string, rec: Omit<OpRecord, 'name' | 'family' | 'smooth' | 'check' | 'view'>): OpRecord {
  return { name, family: 'view', smooth: true, check: 'exact', view: true, ...rec };
}

function withValues(x: RefValue, r: { shape: number[]; values: number[] }): RefValue {
  return { shape: r.shape, dtype: x.dtype, values: r.values };
}

/** A random shape with `n` elements (n = 0 puts a 0 somewhere). */
function factorShape(rng: Rng, n: number): number[] {
  const rank = rng.int(n === 1 ? 0 : 1, 3);
  if (n === 0) return Array.from({ length: Math.max(rank, 1) }, (_, i) => (i === 0 ? 0 : rng.int(1, 3))).sort(() => rng.next() - 0.5);
  const dims = new Array<number>(Math.max(rank, 1)).fill(1);
  let rest = n;
  for (let f = 2; rest > 1; ) {
    if (rest % f === 0) {
      dims[rng.int(0, dims.length - 1)]! *= f;
      rest /= f;
    } else f++;
  }
  return rank === 0 ? [] : dims;
}

// A reshape is a view only when the layout allows, so writes through it are not checked as aliases.
const reshape = { ...view('reshape', {
  propose(c) {
    const a = c.pick(() => true);
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const shape = factorShape(c.rng, sizeOfShape(m.shape));
    const inferred = shape.length > 0 && sizeOfShape(shape) > 0 && c.rng.chance(0.3) ? c.rng.int(0, shape.length - 1) : -1;
    return { args: [a], params: { shape: shape.map((d, i) => (i === inferred ? -1 : d)) }, meta: { shape, dtype: m.dtype } };
  },
  run: ([a], p) => a!.reshape(p.shape as number[]),
  ref([a], p) {
    const spec = p.shape as number[];
    const known = spec.reduce((q, d) => (d === -1 ? q : q * d), 1);
    return { shape: spec.map((d) => (d === -1 ? sizeOfShape(a!.shape) / known : d)), dtype: a!.dtype, values: a!.values.slice() };
  },
  print: ([a], p) => `${a}.reshape([${(p.shape as number[]).join(', ')}])`,
}), view: false };

const permute = view('permute', {
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 2);
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const dims = m.shape.map((_, i) => i).sort(() => c.rng.next() - 0.5);
    return { args: [a], params: { dims }, meta: { shape: dims.map((d) => m.shape[d]!), dtype: m.dtype } };
  },
  run: ([a], p) => a!.permute(p.dims as number[]),
  ref: ([a], p) => withValues(a!, permuteRef(a!, p.dims as number[])),
  print: ([a], p) => `${a}.permute([${(p.dims as number[]).join(', ')}])`,
});

const transpose = view('transpose', {
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 2);
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const i = c.rng.int(0, m.shape.length - 1), j = c.rng.int(0, m.shape.length - 1);
    const shape = m.shape.slice();
    [shape[i], shape[j]] = [shape[j]!, shape[i]!];
    return { args: [a], params: { i: i - (c.rng.chance(0.3) ? m.shape.length : 0), j }, meta: { shape, dtype: m.dtype } };
  },
  run: ([a], p) => a!.transpose(p.i as number, p.j as number),
  ref([a], p) {
    const r = a!.shape.length, i = ((p.i as number) + r) % r, j = p.j as number;
    const dims = a!.shape.map((_, d) => (d === i ? j : d === j ? i : d));
    return withValues(a!, permuteRef(a!, dims));
  },
  print: ([a], p) => `${a}.transpose(${p.i}, ${p.j})`,
});

/** Python-style bounds: negative counts from the end, both clamped into 0..n. */
function bound(v: number | null, n: number, dflt: number): number {
  if (v === null) return dflt;
  return Math.min(Math.max(v < 0 ? v + n : v, 0), n);
}

const slice = view('slice', {
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 1);
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const axis = c.rng.int(0, m.shape.length - 1);
    const n = m.shape[axis]!;
    const pos = () => (c.rng.chance(0.2) ? null : c.rng.int(-n - 1, n + 1));
    const start = pos(), end = pos(), step = c.rng.int(1, 3);
    const s = bound(start, n, 0), e = bound(end, n, n);
    const shape = m.shape.slice();
    shape[axis] = Math.max(0, Math.ceil((e - s) / step));
    const params = { axis: axis - (c.rng.chance(0.3) ? m.shape.length : 0), start, end, step };
    return { args: [a], params, meta: { shape, dtype: m.dtype } };
  },
  run: ([a], p) => a!.slice(p.axis as number, p.start as number | null, p.end as number | null, p.step as number),
  ref([a], p) {
    const r = a!.shape.length, axis = ((p.axis as number) + r) % r, n = a!.shape[axis]!;
    const s = bound(p.start as number | null, n, 0), e = bound(p.end as number | null, n, n);
    return withValues(a!, sliceRef(a!, axis, s, Math.max(s, e), p.step as number));
  },
  print: ([a], p) => `${a}.slice(${p.axis}, ${p.start}, ${p.end}, ${p.step})`,
});

const narrow = view('narrow', {
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 1);
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const axis = c.rng.int(0, m.shape.length - 1), n = m.shape[axis]!;
    const start = c.rng.int(0, n), length = c.rng.int(0, n - start);
    const shape = m.shape.slice();
    shape[axis] = length;
    return { args: [a], params: { axis, start, length }, meta: { shape, dtype: m.dtype } };
  },
  run: ([a], p) => a!.narrow(p.axis as number, p.start as number, p.length as number),
  ref: ([a], p) => withValues(a!, sliceRef(a!, p.axis as number, p.start as number, (p.start as number) + (p.length as number), 1)),
  print: ([a], p) => `${a}.narrow(${p.axis}, ${p.start}, ${p.length})`,
});

const expand = view('expand', {
  propose(c) {
    const a = c.pick((m) => m.shape.length <= 3);
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const shape = m.shape.map((d) => (d === 1 ? c.rng.int(1, 3) : d));
    if (c.rng.chance(0.4)) shape.unshift(c.rng.int(1, 3));
    return { args: [a], params: { shape }, meta: { shape, dtype: m.dtype } };
  },
  run: ([a], p) => a!.expand(p.shape as number[]),
  ref: ([a], p) => withValues(a!, expandRef(a!, p.shape as number[])),
  print: ([a], p) => `${a}.expand([${(p.shape as number[]).join(', ')}])`,
});

const unsqueeze = view('unsqueeze', {
  propose(c) {
    const a = c.pick((m) => m.shape.length <= 3);
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const axis = c.rng.int(0, m.shape.length);
    const shape = m.shape.slice();
    shape.splice(axis, 0, 1);
    return { args: [a], params: { axis }, meta: { shape, dtype: m.dtype } };
  },
  run: ([a], p) => a!.unsqueeze(p.axis as number),
  ref([a], p) {
    const shape = a!.shape.slice();
    shape.splice(p.axis as number, 0, 1);
    return { shape, dtype: a!.dtype, values: a!.values.slice() };
  },
  print: ([a], p) => `${a}.unsqueeze(${p.axis})`,
});

const squeeze = view('squeeze', {
  propose(c) {
    const a = c.pick((m) => m.shape.includes(1));
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const ones = m.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    const axis = c.rng.pick(ones);
    return { args: [a], params: { axis }, meta: { shape: m.shape.filter((_, i) => i !== axis), dtype: m.dtype } };
  },
  run: ([a], p) => a!.squeeze(p.axis as number),
  ref: ([a], p) => ({ shape: a!.shape.filter((_, i) => i !== p.axis), dtype: a!.dtype, values: a!.values.slice() }),
  print: ([a], p) => `${a}.squeeze(${p.axis})`,
});

/** Reads `x` through a gather-like index function (for index ops' references). */
export function gatherRef(x: RefValue, shape: number[], source: (idx: number[]) => number[]): RefValue {
  const r = build(shape, (idx) => at(x, source(idx)));
  return { shape, dtype: x.dtype, values: r.values };
}

export const viewOps: OpRecord[] = [reshape, permute, transpose, slice, narrow, expand, unsqueeze, squeeze];
export type { Params };
