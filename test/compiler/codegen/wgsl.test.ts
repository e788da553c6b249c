/**
 * WGSL kernels on a real WebGPU adapter (Mesa's lavapipe where there is no GPU) against the
 * CPU kernels of the same specs on the same inputs: every elementwise primitive in every
 * dtype the GPU holds, casts, broadcast and strided layouts, gathers and scatters,
 * reductions of each kind over inner and outer axes, row kernels, matmul and random bits.
 * float32 results agree within a few ulp (NaN only with NaN); int32, bool and random bits
 * exactly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { defaultWgslLimits, renderWgsl, type WgslOptions } from '../../../compiler/codegen/wgsl.js';
import { wgslPrimitives, type ElementwisePrim } from '../../../compiler/codegen/wgsl-prims.js';
import { GpuKernels } from '../../webgpu-kernels.js';
import { isElementwise, primitiveRules, type ElementwiseRule, type ReducePrim } from '../../../compiler/ir/primitives.js';
import type { KernelSpec, MapSpec, MatmulSpec, RowSpec } from '../../../compiler/kernel.js';
import { lowerElementwise, lowerFill, lowerGather, lowerIota, lowerMatmul, lowerRandom, lowerReduce, lowerScatterAdd, type Layout } from '../../../compiler/lower.js';
import { fillUniform } from '../../../compiler/random/philox.js';
import { ARRAY_OF, type DType, type TypedArray } from '../../../runtime/dtype.js';
import { DTypeError, ValueError } from '../../../runtime/errors.js';
import { rng } from '../../helpers.js';
import { FLT_MIN, cpuRun, expectMatch, lay, matmulEpilogue, type GpuDType, type Tolerance } from './wgsl-harness.js';
import { gpuForTests } from '../../webgpu.js';

const gpu = await gpuForTests('wgsl codegen');
const runner = gpu === undefined ? undefined : new GpuKernels(gpu);
afterAll(() => {
  runner?.destroy();
  gpu?.destroy();
});
/** Suites that need the adapter. */
const onGpu = describe.skipIf(runner === undefined);

const GPU_DTYPES: readonly GpuDType[] = ['float32', 'int32', 'uint8', 'bool'];

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

const F32_SPECIAL = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, -7, 3.4028234663852886e38, -3.4028234663852886e38,
  1e-30, -1e30, 16777217, 88.72, -103.9, 17.9, -9.2, 1e-8, Math.PI, 1048577, 1e-40, 4096.5, -5000.25, 0.9999, 1.0001, 3e9, -3e9,
];
const I32_SPECIAL = [0, 1, -1, 2, -2, 3, -7, 2147483647, -2147483648, 46341, -46341, 65536, 1 << 30];
const U8_SPECIAL = [0, 1, 2, 15, 16, 127, 128, 254, 255];

/** `n` values of `dtype`: the special values (shuffled into the first positions), then several scales. */
function values(dtype: GpuDType, n: number, next: () => number): TypedArray {
  const out = new ARRAY_OF[dtype](n);
  const special = dtype === 'float32' ? F32_SPECIAL : dtype === 'int32' ? I32_SPECIAL : dtype === 'uint8' ? U8_SPECIAL : [0, 1];
  for (let i = 0; i < n; i++) {
    const k = next();
    if (dtype === 'bool') out[i] = k < 0.5 ? 0 : 1;
    else if (dtype === 'uint8') out[i] = k < 0.5 ? Math.floor(next() * 8) : Math.floor(next() * 256);
    else if (dtype === 'int32') out[i] = k < 0.5 ? Math.floor(next() * 41) - 20 : k < 0.75 ? Math.floor(next() * 2001) - 1000 : (next() * 4294967296) | 0;
    else out[i] = k < 0.4 ? next() * 20 - 10 : k < 0.8 ? (next() * 2 - 1) * 10 ** Math.floor(next() * 16 - 8) : next() * 8 - 4;
  }
  for (let j = 0; j < special.length && j < n; j++) out[Math.floor(next() * Math.min(n, 2 * special.length))] = special[j]!;
  return out;
}


/** Elements a layout's buffer needs. */
function extent(l: Layout): number {
  let last = l.offset;
  l.shape.forEach((d, i) => (last += (d - 1) * Math.max(0, l.strides[i]!)));
  return l.shape.some((d) => d === 0) ? l.offset : last + 1;
}

/** Runs `spec` on the GPU; returns the arrays of the args it writes, by arg. */
async function gpuRun(spec: KernelSpec, host: readonly TypedArray[], offsets: readonly number[], scalars: readonly number[] = [], options: WgslOptions = {}): Promise<Map<number, TypedArray>> {
  const written = runner!.kernel(spec).bindings.flatMap((b) => (b.kind === 'storage' && b.writable ? [b.arg] : []));
  const out = await runner!.run(spec, host, offsets, scalars, options);
  return new Map(written.map((a, i) => [a, out[i]!]));
}

/** Compares every arg the kernel writes, GPU against CPU. */
async function expectSameAsCpu(label: string, spec: KernelSpec, host: readonly TypedArray[], offsets: readonly number[], scalars: readonly number[] = [], tol: Tolerance = {}, options: WgslOptions = {}): Promise<void> {
  const want = cpuRun(spec, host, offsets, scalars);
  const got = await gpuRun(spec, host, offsets, scalars, options);
  expect(got.size).toBeGreaterThan(0);
  for (const [arg, g] of got) expectMatch(`${label}, arg ${arg}`, g, want[arg]!, dtypeOfArg(spec, arg), tol);
}

function dtypeOfArg(spec: KernelSpec, arg: number): DType {
  switch (spec.kind) {
    case 'matmul': return arg === 0 ? spec.epilogue?.dtype ?? spec.dtype : arg < 3 ? spec.dtype : spec.extras[arg - 3]!.dtype;
    case 'random': return 'float32';
    default: return (spec as { dtypes: DType[] }).dtypes[arg]!;
  }
}

// ---------------------------------------------------------------------------------------

describe('WGSL rendering', () => {
  it('has a rendering for every elementwise primitive of the table', () => {
    const elementwise = Object.entries(primitiveRules).filter(([, r]) => isElementwise(r)).map(([p]) => p).sort();
    expect(Object.keys(wgslPrimitives).sort()).toEqual(elementwise);
  });

  it('rejects float64 with an error naming the dtype', () => {
    const x = lay('float64', [4]);
    expect(() => renderWgsl(lowerElementwise('exp', [x], x).build())).toThrow(DTypeError);
    expect(() => renderWgsl(lowerElementwise('exp', [x], x).build())).toThrow(/float64/);
    expect(() => renderWgsl(lowerReduce('sum', x, [0], lay('float64', [])).build())).toThrow(/float64/);
  });

  it('renders a contiguous float32 add as one flat index with run-time offsets', () => {
    const x = lay('float32', [2, 3]);
    const k = renderWgsl(lowerElementwise('add', [x, x], x).build(), defaultWgslLimits);
    expect(k.vectorWidth).toBe(1);
    expect(k.code).toMatchInlineSnapshot(`
      "@group(0) @binding(0) var<storage, read_write> b0: array<f32>;
      @group(0) @binding(1) var<storage, read> b1: array<f32>;
      @group(0) @binding(2) var<storage, read> b2: array<f32>;
      @group(0) @binding(3) var<uniform> u: array<vec4<u32>, 1>;
      @compute @workgroup_size(256)
      fn main(@builtin(global_invocation_id) gid3: vec3<u32>) {
        let gid = gid3.x;
        if (gid >= 6u) {
          return;
        }
        let c0 = gid;
        let p0 = u[0][0] + c0;
        let p1 = u[0][1] + c0;
        let p2 = u[0][2] + c0;
        let v0 = b1[p1];
        let v1 = b2[p2];
        let v2 = (v0 + v1);
        b0[p0] = v2;
      }
      "
    `);
  });

  it('vectorizes contiguous maps only when every offset is aligned', () => {
    const x = lay('float32', [8, 16]);
    const bias = lay('float32', [8, 16], [1, 0]);
    const spec = lowerElementwise('add', [x, bias], x).build();
    expect(renderWgsl(spec, defaultWgslLimits, { alignedOffsets: true }).vectorWidth).toBe(4);
    expect(renderWgsl(spec, defaultWgslLimits, { alignedOffsets: false }).vectorWidth).toBe(1);
    const k = renderWgsl(spec, defaultWgslLimits, { alignedOffsets: true });
    expect(() => k.dispatch([1, 0, 0])).toThrow(/offset 1/);
    // A last dim that is not a multiple of 4 stays scalar.
    expect(renderWgsl(lowerElementwise('neg', [lay('float32', [6])], lay('float32', [6])).build(), defaultWgslLimits, { alignedOffsets: true }).vectorWidth).toBe(1);
  });

  it('splits large launches over a second grid dimension', () => {
    const n = 65536 * 64 + 3;
    const k = renderWgsl(lowerElementwise('neg', [lay('float32', [n])], lay('float32', [n])).build(), defaultWgslLimits, { workgroupSize: 64 });
    const { workgroups } = k.dispatch([0, 0]);
    expect(workgroups[1]).toBeGreaterThan(1);
    expect(workgroups[0] * workgroups[1] * 64).toBeGreaterThanOrEqual(n);
  });
});

// ---------------------------------------------------------------------------------------

/** float32 primitives whose results are not correctly rounded on the CPU or the GPU: allowed error in ulp. */
const ULPS: Partial<Record<ElementwisePrim, number>> = {
  exp: 4, log: 4, log1p: 4, expm1: 4, sin: 4, cos: 4, tan: 4, tanh: 4, erf: 4, sigmoid: 4,
  // Numerical Recipes' erfcc evaluated in float32: at most 6 ulp over 2^20 points in [-4, 11) on lavapipe.
  erfc: 8,
  // WGSL allows 2.5 ulp for division and square roots.
  div: 3, recip: 3, sqrt: 3, rsqrt: 3,
  // The CPU adds the divisor in float64 before rounding, the GPU in float32.
  mod: 1,
};

onGpu('elementwise primitives on WebGPU', () => {
  const prims = Object.keys(wgslPrimitives) as ElementwisePrim[];
  for (const prim of prims) {
    const rule = primitiveRules[prim] as ElementwiseRule;
    for (const dtype of GPU_DTYPES.filter((d) => rule.accepts.includes(d))) {
      it(`${prim} ${dtype}`, async () => {
        const next = rng(seedOf(`${prim}|${dtype}`));
        // 1027: the scalar kernel; 1024 with aligned offsets: the vec4 kernel.
        for (const n of [1027, 1024]) {
          const inDtypes: GpuDType[] = rule.kind === 'ternary' ? ['bool', dtype, dtype] : rule.kind === 'binary' ? [dtype, dtype] : [dtype];
          const ins = inDtypes.map((d) => values(d, n, next));
          const outDtype = (rule.result ?? dtype) as GpuDType;
          const spec = lowerElementwise(prim, inDtypes.map((d) => lay(d, [n])), lay(outDtype, [n])).build();
          expect(runner!.kernel(spec, { alignedOffsets: true }).vectorWidth).toBe(n % 4 === 0 ? 4 : 1);
          const host = [new ARRAY_OF[outDtype](n), ...ins];
          const offsets = host.map(() => 0);
          const want = cpuRun(spec, host, offsets)[0]!;
          const got = (await gpuRun(spec, host, offsets)).get(0)!;
          let ulps: Tolerance['ulps'] = ULPS[prim] ?? 0;
          if (prim === 'pow') {
            // exp2(y log2 x) in float32: the error grows with |y|, see wgsl-prims.ts.
            ulps = (i) => 4 + Math.abs(ins[1]![i]!) / 2;
          }
          const approx = ULPS[prim] !== undefined || prim === 'pow';
          expectMatch(`${prim} ${dtype} [${n}]`, got, want, outDtype, { ulps, atol: approx ? FLT_MIN : 0 }, (i) => `inputs ${ins.map((a) => a[i]).join(', ')}`);
        }
      });
    }
  }

  for (const from of GPU_DTYPES) {
    for (const to of GPU_DTYPES.filter((d) => d !== from)) {
      it(`cast ${from} -> ${to}`, async () => {
        const n = 515;
        const x = values(from, n, rng(seedOf(`cast|${from}|${to}`)));
        const spec = lowerElementwise('cast', [lay(from, [n])], lay(to, [n])).build();
        await expectSameAsCpu(`cast ${from} -> ${to}`, spec, [new ARRAY_OF[to](n), x], [0, 0]);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------

/** gelu(x * a + b) as the JIT fuses it: x·0.5·(erf(x·√½) + 1) with the constants as scalar arguments. */
function geluChain(n: number): MapSpec {
  return {
    kind: 'map', shape: [n], dtypes: ['float32', 'float32', 'float32', 'float32'], strides: [[1], [1], [1], [1]],
    body: [
      { op: 'load', arg: 1 }, { op: 'load', arg: 2 }, { op: 'load', arg: 3 },
      { op: 'prim', prim: 'mul', args: [0, 1], dtype: 'float32' },
      { op: 'prim', prim: 'add', args: [3, 2], dtype: 'float32' },
      { op: 'scalar', index: 0, dtype: 'float32' },
      { op: 'prim', prim: 'mul', args: [4, 5], dtype: 'float32' },
      { op: 'scalar', index: 1, dtype: 'float32' },
      { op: 'prim', prim: 'mul', args: [4, 7], dtype: 'float32' },
      { op: 'prim', prim: 'erf', args: [8], dtype: 'float32' },
      { op: 'scalar', index: 2, dtype: 'float32' },
      { op: 'prim', prim: 'add', args: [9, 10], dtype: 'float32' },
      { op: 'prim', prim: 'mul', args: [6, 11], dtype: 'float32' },
    ],
    stores: [{ arg: 0, node: 12 }],
  };
}

onGpu('layouts, fused maps, gathers and scatters on WebGPU', () => {
  it('adds broadcast, permuted and offset operands into a strided output', async () => {
    const shape = [3, 4, 5];
    const a = lay('float32', shape, [5, 0, 1]);
    const b = lay('float32', shape, [1, 3, 12], 2);
    const out = lay('float32', shape, [40, 10, 2], 1);
    const next = rng(1);
    const host = [new Float32Array(extent(out)).fill(-1), values('float32', extent(a), next), values('float32', extent(b), next)];
    await expectSameAsCpu('strided add', lowerElementwise('add', [a, b], out).build(), host, [out.offset, a.offset, b.offset]);
  });

  it('reads a row broadcast with vec4 loads, and the same kernel shape unaligned', async () => {
    const x = lay('float32', [8, 16]);
    const bias = lay('float32', [8, 16], [1, 0]);
    const spec = lowerElementwise('mul', [x, bias], x).build();
    const next = rng(2);
    const host = [new Float32Array(8 * 16 + 8), values('float32', 8 * 16 + 8, next), values('float32', 16, next)];
    await expectSameAsCpu('vec4 broadcast', spec, host, [4, 8, 3]);
    await expectSameAsCpu('scalar broadcast', spec, host, [1, 5, 3]);
  });

  it('where with a broadcast bool condition and an int32 scalar operand', async () => {
    const shape = [6, 7];
    const cond = lay('bool', shape, [1, 0]);
    const a = lay('int32', shape);
    const b = lay('int32', shape, [0, 0]);
    const next = rng(3);
    const host = [new Int32Array(42), values('bool', 6, next), values('int32', 42, next), Int32Array.of(-5)];
    await expectSameAsCpu('where', lowerElementwise('where', [cond, a, b], lay('int32', shape)).build(), host, [0, 0, 0, 0]);
  });

  it('fills with a scalar argument converted to each dtype', async () => {
    for (const [dtype, value] of [['float32', 0.1], ['float32', NaN], ['int32', -3.7], ['int32', 3e9], ['bool', 2], ['bool', 0]] as const) {
      const out = lay(dtype, [5, 3], [6, 2], 1);
      const host = [new ARRAY_OF[dtype](extent(out))];
      await expectSameAsCpu(`fill ${dtype} ${value}`, lowerFill(out).build(), host, [1], [value]);
    }
  });

  it('iota from the position node', async () => {
    await expectSameAsCpu('iota', lowerIota(lay('int32', [1000])).build(), [new Int32Array(1000)], [0]);
  });

  it('the fused gelu chain', async () => {
    const n = 4099;
    const next = rng(4);
    const host = [new Float32Array(n), ...[0, 1, 2].map(() => values('float32', n, next))];
    // 1 + erf(h/sqrt2) cancels for h near -5: erf's last-bit error then counts absolutely, about |h| 2^-24.
    await expectSameAsCpu('gelu chain', geluChain(n), host, [0, 0, 0, 0], [0.5, Math.SQRT1_2, 1], { ulps: 8, atol: 1e-6 });
  });

  it('passes recorded constants exactly (NaN, infinities, -0, int32 extremes) and keeps IEEE results such as Inf * -0', async () => {
    const n = 257;
    const next = rng(41);
    const lits = [NaN, Infinity, -Infinity, -0, 0.1, -3.5e38, 1.4e-45];
    for (const value of lits) {
      const spec: MapSpec = {
        kind: 'map', shape: [n], dtypes: ['float32', 'float32'], strides: [[1], [1]],
        body: [{ op: 'load', arg: 1 }, { op: 'literal', value: Math.fround(value), dtype: 'float32' }, { op: 'prim', prim: 'mul', args: [0, 1], dtype: 'float32' }],
        stores: [{ arg: 0, node: 2 }],
      };
      await expectSameAsCpu(`literal ${value}`, spec, [new Float32Array(n), values('float32', n, next)], [0, 0], []);
    }
    for (const value of [-2147483648, 2147483647, -7]) {
      const spec: MapSpec = {
        kind: 'map', shape: [n], dtypes: ['int32', 'int32'], strides: [[1], [1]],
        body: [{ op: 'load', arg: 1 }, { op: 'literal', value, dtype: 'int32' }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'int32' }],
        stores: [{ arg: 0, node: 2 }],
      };
      await expectSameAsCpu(`literal ${value}`, spec, [new Int32Array(n), values('int32', n, next)], [0, 0], []);
    }
  });

  // 4M elements through lavapipe and the CPU reference: seconds on a loaded 2-core CI machine.
  it('more elements than one grid dimension holds', async () => {
    const n = 65536 * 64 + 3;
    const next = rng(5);
    const spec = lowerElementwise('sub', [lay('float32', [n]), lay('float32', [n])], lay('float32', [n])).build();
    // Workgroups of 64 put this launch past 65535 workgroups: a 2-D grid.
    expect(runner!.kernel(spec, { workgroupSize: 64 }).dispatch([0, 0, 0]).workgroups[1]).toBe(2);
    await expectSameAsCpu('large map', spec, [new Float32Array(n), values('float32', n, next), values('float32', n, next)], [0, 0, 0], [], {}, { workgroupSize: 64 });
  }, 60_000);

  it('gathers along an axis, and raises the CPU error for an index out of range', async () => {
    const x = lay('float32', [5, 6]);
    const index = lay('int32', [5, 4]);
    const out = lay('float32', [5, 4]);
    const spec = lowerGather(x, index, 1, out).build();
    const next = rng(6);
    const idx = Int32Array.from({ length: 20 }, () => Math.floor(next() * 6));
    const host = [new Float32Array(20), idx, values('float32', 30, next)];
    await expectSameAsCpu('gather', spec, host, [0, 0, 0]);
    idx[7] = 6;
    const cpuError = (() => {
      try {
        cpuRun(spec, host, [0, 0, 0]);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected the CPU kernel to throw');
    })();
    expect(cpuError).toBeInstanceOf(ValueError);
    await expect(gpuRun(spec, host, [0, 0, 0])).rejects.toThrow(cpuError.message);
  });

  it('scatter-adds with repeated indices (atomics) in float32 and int32', async () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const out = lay(dtype, [5, 6]);
      const index = lay('int32', [5, 40]);
      const src = lay(dtype, [5, 40]);
      const spec = lowerScatterAdd(out, index, src, 1).build();
      const next = rng(7);
      const idx = Int32Array.from({ length: 200 }, () => Math.floor(next() * 6));
      const srcValues = dtype === 'float32' ? Float32Array.from({ length: 200 }, () => next() * 2 - 1) : Int32Array.from({ length: 200 }, () => Math.floor(next() * 100) - 50);
      const base = dtype === 'float32' ? Float32Array.from({ length: 30 }, () => next()) : Int32Array.from({ length: 30 }, (_, i) => i);
      // Additions land in any order on the GPU: float32 sums of up to 40 terms of size 1.
      await expectSameAsCpu(`scatterAdd ${dtype}`, spec, [base, idx, srcValues], [0, 0, 0], [], { atol: 1e-5 });
      idx[3] = -1;
      await expect(gpuRun(spec, [base, idx, srcValues], [0, 0, 0])).rejects.toThrow(/scatterAdd: index -1 is out of range/);
    }
  });
});

// ---------------------------------------------------------------------------------------

/** Values for reductions: NaN in some rows for float32, repeated values for ties, prod-friendly magnitudes. */
function reduceInput(op: ReducePrim, dtype: GpuDType, n: number, next: () => number): TypedArray {
  const out = new ARRAY_OF[dtype](n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') out[i] = op === 'prod' ? (next() < 0.995 ? 1 : 0) : next() < 0.5 ? 1 : 0;
    else if (dtype === 'int32') out[i] = op === 'prod' ? (next() < 0.9 ? 1 : next() < 0.5 ? -1 : 3) : Math.floor(next() * 21) - 10;
    else out[i] = op === 'prod' ? 1 + (next() - 0.5) * 0.02 : op === 'sum' ? next() * 2 - 1 : Math.round((next() * 2 - 1) * 50) / 4;
  }
  if (dtype === 'float32' && op !== 'sum' && op !== 'prod') {
    for (let k = 0; k < 4; k++) out[Math.floor(next() * n)] = NaN;
    out[Math.floor(next() * n)] = -Infinity;
  }
  return out;
}

onGpu('reductions on WebGPU', () => {
  const ops: ReducePrim[] = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'];
  // [rows, cols] and the axes reduced: short rows (one lane per row), long rows (lanes that
  // combine their partial results), the outer axis (strided reads), everything, and many
  // rows. wgsl-rows.test.ts covers reduce and row kernels in more shapes, for both devices' profiles.
  const cases: { shape: number[]; axes: number[] }[] = [
    { shape: [37, 5], axes: [1] },
    { shape: [7, 3001], axes: [1] },
    { shape: [1000, 9], axes: [0] },
    { shape: [33, 70], axes: [0] },
    { shape: [13, 29], axes: [0, 1] },
    { shape: [70000, 20], axes: [1] },
  ];
  for (const op of ops) {
    for (const dtype of GPU_DTYPES) {
      it(`${op} ${dtype}`, async () => {
        const next = rng(seedOf(`${op}|${dtype}`));
        for (const { shape, axes } of cases) {
          if ((op === 'argmax' || op === 'argmin') && axes.length > 1) continue;
          if (shape[0]! > 10000 && dtype !== 'float32') continue;
          const n = shape[0]! * shape[1]!;
          const input = lay(dtype, shape);
          const outShape = shape.filter((_, d) => !axes.includes(d));
          const outDtype = (primitiveRules[op] as { result: (d: DType) => DType }).result(dtype);
          const out = lay(outDtype, outShape);
          const spec = lowerReduce(op, input, op === 'argmax' || op === 'argmin' ? axes.slice(0, 1) : axes, out).build();
          const x = reduceInput(op, dtype, n, next);
          const host = [new ARRAY_OF[outDtype](Math.max(1, outShape.reduce((p, d) => p * d, 1))), x];
          const want = cpuRun(spec, host, [0, 0])[0]!;
          const got = (await gpuRun(spec, host, [0, 0])).get(0)!;
          // Lanes add in float32 and in another order than the CPU's float64 running sum.
          const inner = axes.reduce((p, d) => p * shape[d]!, 1);
          const tol: Tolerance = op === 'sum' && dtype === 'float32' ? { ulps: 8, atol: inner * 2e-7 } : op === 'prod' && dtype === 'float32' ? { ulps: 2 * inner } : {};
          expectMatch(`${op} ${dtype} [${shape}] over ${axes}`, got, want, outDtype, tol);
        }
      }, 60_000);
    }
  }
});

// ---------------------------------------------------------------------------------------

/** softmax over rows of `inner`: max, sum of exp(x - max) (saved), then the division. */
function softmaxRow(rows: number, inner: number): RowSpec {
  return {
    kind: 'row', outer: [rows], inner: [inner], dtypes: ['float32', 'float32'],
    outerStrides: [[inner], [inner]], innerStrides: [[1], [1]], rows: 2, scratch: 1,
    passes: [
      { kind: 'reduce', op: 'max', dtype: 'float32', outDtype: 'float32', body: [{ op: 'load', arg: 1 }], value: 0, row: 0, saves: [] },
      {
        kind: 'reduce', op: 'sum', dtype: 'float32', outDtype: 'float32', row: 1, value: 3, saves: [{ node: 3, index: 0 }],
        body: [{ op: 'load', arg: 1 }, { op: 'row', index: 0 }, { op: 'prim', prim: 'sub', args: [0, 1], dtype: 'float32' }, { op: 'prim', prim: 'exp', args: [2], dtype: 'float32' }],
      },
      {
        kind: 'map', saves: [], stores: [{ arg: 0, node: 2 }],
        body: [{ op: 'scratch', index: 0 }, { op: 'row', index: 1 }, { op: 'prim', prim: 'div', args: [0, 1], dtype: 'float32' }],
      },
    ],
  };
}

/** layerNorm without affine: mean (stored to arg 1), variance, a scalar pass for 1/sqrt(var + eps), then the map. */
function layerNormRow(rows: number, inner: number): RowSpec {
  const f = 'float32' as const;
  return {
    kind: 'row', outer: [rows], inner: [inner], dtypes: [f, f, f],
    outerStrides: [[inner], [1], [inner]], innerStrides: [[1], [0], [1]], rows: 4, scratch: 0,
    passes: [
      { kind: 'reduce', op: 'sum', dtype: f, outDtype: f, body: [{ op: 'load', arg: 2 }], value: 0, row: 0, saves: [] },
      { kind: 'scalar', body: [{ op: 'row', index: 0 }, { op: 'scalar', index: 0, dtype: f }, { op: 'prim', prim: 'div', args: [0, 1], dtype: f }], value: 2, row: 1, store: 1 },
      {
        kind: 'reduce', op: 'sum', dtype: f, outDtype: f, row: 2, value: 3, saves: [],
        body: [{ op: 'load', arg: 2 }, { op: 'row', index: 1 }, { op: 'prim', prim: 'sub', args: [0, 1], dtype: f }, { op: 'prim', prim: 'mul', args: [2, 2], dtype: f }],
      },
      {
        kind: 'scalar', value: 5, row: 3,
        body: [{ op: 'row', index: 2 }, { op: 'scalar', index: 0, dtype: f }, { op: 'prim', prim: 'div', args: [0, 1], dtype: f }, { op: 'scalar', index: 1, dtype: f }, { op: 'prim', prim: 'add', args: [2, 3], dtype: f }, { op: 'prim', prim: 'rsqrt', args: [4], dtype: f }],
      },
      {
        kind: 'map', saves: [], stores: [{ arg: 0, node: 4 }],
        body: [{ op: 'load', arg: 2 }, { op: 'row', index: 1 }, { op: 'prim', prim: 'sub', args: [0, 1], dtype: f }, { op: 'row', index: 3 }, { op: 'prim', prim: 'mul', args: [2, 3], dtype: f }],
      },
    ],
  };
}

onGpu('row kernels on WebGPU', () => {
  it('softmax, with short rows and long rows', async () => {
    for (const [rows, inner] of [[50, 10], [9, 1000]] as const) {
      const next = rng(rows);
      const x = Float32Array.from({ length: rows * inner }, () => (next() * 2 - 1) * 30);
      await expectSameAsCpu(`softmax [${rows},${inner}]`, softmaxRow(rows, inner), [new Float32Array(rows * inner), x], [0, 0], [], { ulps: 16, atol: 1e-37 });
    }
  });

  it('layerNorm with a stored row value and scalar passes', async () => {
    for (const [rows, inner] of [[20, 12], [6, 777]] as const) {
      const next = rng(inner);
      const x = Float32Array.from({ length: rows * inner }, () => next() * 4 - 1);
      const host = [new Float32Array(rows * inner), new Float32Array(rows), x];
      await expectSameAsCpu(`layerNorm [${rows},${inner}]`, layerNormRow(rows, inner), host, [0, 0, 0], [inner, 1e-5], { ulps: 64, atol: 1e-5 });
    }
  });
});

// ---------------------------------------------------------------------------------------

onGpu('matmul on WebGPU', () => {
  const sizes: [number, number, number][] = [[1, 1, 1], [16, 16, 16], [17, 5, 33], [33, 47, 29], [64, 64, 64], [3, 4, 0], [1, 70, 300]];
  for (const dtype of GPU_DTYPES) {
    it(`${dtype}, sizes that are and are not multiples of the tile`, async () => {
      const next = rng(seedOf(`matmul|${dtype}`));
      for (const [m, n, k] of sizes) {
        const a = lay(dtype, [m, k]);
        const b = lay(dtype, [k, n]);
        const out = lay(dtype, [m, n]);
        const host = [new ARRAY_OF[dtype](Math.max(1, m * n)), values(dtype, Math.max(1, m * k), next), values(dtype, Math.max(1, k * n), next)];
        if (dtype === 'float32') for (const arr of host.slice(1)) arr.forEach((_, i) => (arr[i] = next() * 2 - 1));
        if (dtype === 'int32') for (const arr of host.slice(1)) arr.forEach((_, i) => (arr[i] = Math.floor(next() * 2001) - 1000));
        await expectSameAsCpu(`matmul ${dtype} ${m}x${k} @ ${k}x${n}`, lowerMatmul(a, b, out).build(), host, [0, 0, 0], [], { atol: k * 1e-6 });
      }
    });
  }

  it('batched, with a broadcast batch and a transposed right operand', async () => {
    const [m, n, k] = [19, 21, 23];
    const a = lay('float32', [2, 3, m, k]);
    // b: one [n, k] matrix read transposed, shared by every batch entry.
    const b = lay('float32', [2, 3, k, n], [0, 0, 1, k], 5);
    const out = lay('float32', [2, 3, m, n]);
    const next = rng(8);
    const host = [new Float32Array(6 * m * n), Float32Array.from({ length: 6 * m * k }, () => next() * 2 - 1), Float32Array.from({ length: 5 + n * k }, () => next() * 2 - 1)];
    await expectSameAsCpu('batched matmul', lowerMatmul(a, b, out).build(), host, [0, 0, 5], [], { atol: k * 1e-6 });
  });
});

onGpu('matmul epilogues on WebGPU', () => {
  it('bias, relu and a residual computed at the store', async () => {
    for (const [m, n, k] of [[5, 7, 3], [40, 33, 19]] as const) {
      const next = rng(m);
      const r = () => next() * 2 - 1;
      const host = [
        new Float32Array(2 * m * n), Float32Array.from({ length: 2 * m * k }, r), Float32Array.from({ length: k * n }, r),
        Float32Array.from({ length: n }, r), Float32Array.of(0), Float32Array.from({ length: 2 * m * n }, r),
      ];
      await expectSameAsCpu(`matmul epilogue ${m}x${k} @ ${k}x${n}`, matmulEpilogue(m, n, k), host, [0, 0, 0, 0, 0, 0], [], { atol: k * 1e-6 });
    }
  });

  it('an epilogue that changes the dtype (int32 product compared to a threshold)', async () => {
    const [m, n, k] = [9, 10, 11];
    const spec: MatmulSpec = {
      kind: 'matmul', dtype: 'int32', m, n, k, aStrides: [k, 1], bStrides: [n, 1], batch: [], batchStrides: [[], [], []],
      extras: [{ dtype: 'int32', batchStrides: [], strides: [0, 0] }],
      epilogue: { dtype: 'bool', value: 2, body: [{ op: 'acc' }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'lt', args: [1, 0], dtype: 'int32' }] },
    };
    const next = rng(9);
    const host = [new Uint8Array(m * n), Int32Array.from({ length: m * k }, () => Math.floor(next() * 11) - 5), Int32Array.from({ length: k * n }, () => Math.floor(next() * 11) - 5), Int32Array.of(3)];
    await expectSameAsCpu('int32 matmul > 3', spec, host, [0, 0, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------

onGpu('random bits on WebGPU', () => {
  it('is bit-identical to the CPU stream for any seed, stream offset and output offset', async () => {
    const seeds = [0, 42, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    const offsets = [0, 1, 2, 3, 7, 2 ** 32 - 2, 2 ** 34 - 6, 2 ** 40 + 3];
    for (const size of [1, 5, 1000, 4097]) {
      const spec = lowerRandom(lay('float32', [size])).build();
      for (const seed of seeds) {
        for (const offset of offsets) {
          const host = [new Float32Array(size + 3)];
          const got = (await gpuRun(spec, host, [3], [seed, offset])).get(0)!;
          const want = new Float32Array(size + 3);
          fillUniform(want.subarray(3), seed, offset);
          expectMatch(`random size ${size} seed ${seed} offset ${offset}`, got, want, 'int32');
        }
      }
    }
  }, 60_000);
});
