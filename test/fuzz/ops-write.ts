/** Gather, indexSelect and scatterAdd with constant int32 indices, and in-place writes into intermediates. */
import { gather, scatterAdd, tensor, type Tensor } from '../../src/index.js';
import { at, mapBroadcast, sizeOfShape, unravel } from '../src/ref-arrays.js';
import { promote, promoteScalar } from './dtypes.js';
import type { OpRecord, ProposeContext, RefValue } from './op-record.js';
import { isFloatType, type FuzzDType, type Meta, type Params } from './program.js';
import { broadcastable, lit } from './shapes.js';
import { gatherRef } from './ops-view.js';
import { asCompute } from './ops-elementwise.js';

/** The constant index, on the device of the tensor it indexes. */
function indexTensor(p: Params, on: Tensor): Tensor {
  const index = tensor(Int32Array.from(p.index as number[]), { shape: p.indexShape as number[] });
  return on.device === 'cpu' ? index : index.to(on.device);
}

function printIndex(p: Params): string {
  return `tensor(Int32Array.from([${(p.index as number[]).join(', ')}]), { shape: [${(p.indexShape as number[]).join(', ')}] })`;
}

/** Random indices below `high` in `shape`. */
function indices(c: ProposeContext, shape: number[], high: number): number[] {
  return Array.from({ length: sizeOfShape(shape) }, () => c.rng.int(0, high - 1));
}

const gatherOp: OpRecord = {
  name: 'gather', family: 'index', smooth: true, check: 'exact',
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 1 && !m.shape.includes(0));
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const axis = c.rng.int(0, m.shape.length - 1);
    const indexShape = m.shape.map((d, i) => (i === axis ? c.rng.int(0, 3) : c.rng.int(1, d)));
    const params = { axis, index: indices(c, indexShape, m.shape[axis]!), indexShape };
    return { args: [a], params, meta: { shape: indexShape, dtype: m.dtype } };
  },
  run: ([a], p) => gather(a!, p.axis as number, indexTensor(p, a!)),
  ref([a], p) {
    const idx = { shape: p.indexShape as number[], values: p.index as number[] };
    return gatherRef(a!, p.indexShape as number[], (i) => i.map((v, d) => (d === p.axis ? at(idx, i) : v)));
  },
  print: ([a], p) => `gather(${a}, ${p.axis}, ${printIndex(p)})`,
};

const indexSelectOp: OpRecord = {
  name: 'indexSelect', family: 'index', smooth: true, check: 'exact',
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 1 && !m.shape.includes(0));
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const axis = c.rng.int(0, m.shape.length - 1), count = c.rng.int(0, 4);
    const shape = m.shape.map((d, i) => (i === axis ? count : d));
    return { args: [a], params: { axis, index: indices(c, [count], m.shape[axis]!), indexShape: [count] }, meta: { shape, dtype: m.dtype } };
  },
  run: ([a], p) => a!.indexSelect(p.axis as number, indexTensor(p, a!)),
  ref([a], p) {
    const shape = a!.shape.map((d, i) => (i === p.axis ? (p.index as number[]).length : d));
    return gatherRef(a!, shape, (i) => i.map((v, d) => (d === p.axis ? (p.index as number[])[v]! : v)));
  },
  print: ([a], p) => `${a}.indexSelect(${p.axis}, ${printIndex(p)})`,
};

const scatterAddOp: OpRecord = {
  name: 'scatterAdd', family: 'index', smooth: true, check: 'accumulate',
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 1 && !m.shape.includes(0) && m.dtype !== 'bool');
    if (a === undefined) return undefined;
    const m = c.meta(a);
    const axis = c.rng.int(0, m.shape.length - 1);
    const indexShape = m.shape.map((d, i) => (i === axis ? c.rng.int(0, 4) : c.rng.int(1, d)));
    const src = c.pick((o) => o.dtype === m.dtype && o.shape.join() === indexShape.join())
      ?? c.input({ shape: indexShape, dtype: m.dtype });
    const params = { axis, index: indices(c, indexShape, m.shape[axis]!), indexShape };
    return { args: [a, src], params, meta: { shape: m.shape, dtype: m.dtype } };
  },
  run: ([a, src], p) => scatterAdd(a!, p.axis as number, indexTensor(p, a!), src!),
  ref([a, src], p) {
    const values = a!.values.slice(), mag = a!.values.map(Math.abs), count = a!.values.map(() => 1);
    const idx = { shape: p.indexShape as number[], values: p.index as number[] };
    const strides = a!.shape.map((_, d) => sizeOfShape(a!.shape.slice(d + 1)));
    const isInt = a!.dtype === 'int32';
    for (let i = 0; i < sizeOfShape(idx.shape); i++) {
      const pos = unravel(i, idx.shape);
      const target = pos.map((v, d) => (d === p.axis ? at(idx, pos) : v)).reduce((q, v, d) => q + v * strides[d]!, 0);
      const x = at(src!, pos);
      values[target] = isInt ? (values[target]! + x) | 0 : values[target]! + x;
      mag[target]! += Math.abs(x);
      count[target]!++;
    }
    const u = a!.dtype === 'float64' ? 2 ** -53 : 2 ** -24;
    return { shape: a!.shape.slice(), dtype: a!.dtype, values, bound: mag.map((q, i) => (count[i]! + 2) * 2 * u * q) };
  },
  print: ([a, src], p) => `scatterAdd(${a}, ${p.axis}, ${printIndex(p)}, ${src})`,
};

/** Whether values of `from` may be written into `to` (no float into int, no int into bool). */
function storable(from: FuzzDType, to: FuzzDType): boolean {
  const rank = (d: FuzzDType) => (d === 'bool' ? 0 : d === 'int32' ? 1 : 2);
  return rank(from) <= rank(to);
}

type InplaceName = 'add_' | 'sub_' | 'mul_' | 'copy_' | 'fill_';

function inplace(name: InplaceName, f: (x: number, y: number) => number, int: (x: number, y: number) => number): OpRecord {
  return {
    name, family: 'inplace', smooth: name !== 'fill_', check: 'exact', inplace: true,
    propose(c) {
      const t = c.pick((m, v) => !c.reachesInput(v) && c.writable(v) && (name === 'copy_' || name === 'fill_' || m.dtype !== 'bool'));
      if (t === undefined) return undefined;
      const m = c.meta(t);
      if (name === 'fill_' || c.rng.chance(0.25)) {
        const pool = isFloatType(m.dtype) ? [2, -0, 0.5, NaN, -Infinity, 3] : m.dtype === 'int32' ? [2, -1, 0, 7] : [0, 1];
        const scalar = c.rng.pick(pool);
        if (!storable(promoteScalar(m.dtype, scalar), m.dtype) && name !== 'copy_' && name !== 'fill_') return undefined;
        return { args: [t], params: { c: scalar }, meta: m };
      }
      const ok = (o: Meta) => broadcastable(o.shape, m.shape) && o.shape.length <= m.shape.length
        && o.shape.every((d, i) => d === 1 || d === m.shape[m.shape.length - o.shape.length + i])
        && (name === 'copy_' || storable(promote(o.dtype, m.dtype), m.dtype));
      const sub = m.shape.slice(c.rng.int(0, m.shape.length)).map((d) => (c.rng.chance(0.3) ? 1 : d));
      const other = c.pick((o, v) => v !== t && ok(o)) ?? c.input({ shape: sub, dtype: m.dtype });
      if (!ok(c.meta(other))) return undefined;
      return { args: [t, other], params: { c: null }, meta: m };
    },
    run([t, o], p) {
      const value = o ?? (p.c as number);
      return name === 'fill_' ? t!.fill_(p.c as number) : (t![name] as (v: Tensor | number) => Tensor)(value);
    },
    ref([t, o], p) {
      const other: RefValue = o ?? { shape: [], dtype: promoteScalar(t!.dtype, p.c as number), values: [p.c as number] };
      const compute = promote(t!.dtype, other.dtype);
      const g = compute === 'int32' ? int : f;
      const r = mapBroadcast(asCompute([t!, other], compute), g);
      return { shape: t!.shape.slice(), dtype: t!.dtype, values: r.values };
    },
    print: ([t, o], p) => `${t}.${name}(${o ?? lit(p.c as number)})`,
  };
}

export const writeOps: OpRecord[] = [
  gatherOp, indexSelectOp, scatterAddOp,
  inplace('add_', (x, y) => x + y, (x, y) => (x + y) | 0),
  inplace('sub_', (x, y) => x - y, (x, y) => (x - y) | 0),
  inplace('mul_', (x, y) => x * y, Math.imul),
  inplace('copy_', (_x, y) => y, (_x, y) => y),
  inplace('fill_', (_x, y) => y, (_x, y) => y),
];
