/** Matmul kernels: register blocks of C per invocation, staged through workgroup memory on a GPU. */
import { type GpuDType, wgslType } from '../wgsl-prims.js';
import { HelperSet } from '../wgsl-helpers.js';
import { InternalError } from '../../../runtime/errors.js';
import type { MatmulSpec } from '../../kernel.js';
import { Uniforms } from './uniforms.js';
import type { WgslKernel, WgslLimits, WgslOptions } from './types.js';
import {
  affine, assemble, coordinates, fromStorage, gpuDType, grid, indent, int, lastIndex, linear, pow2AtLeast, product,
  sizeU32, storageDecls, toStorage, u32, type SizeText,
} from './common.js';
import { nodeTypes, renderBody } from './body.js';

// Each invocation keeps an RM x RN block of C in registers: per step along k it loads RM
// values of A and RN of B and does RM·RN multiply-adds, instead of 2 loads per product.
// Invocation (x, y) of a WX x WY workgroup owns rows y + i·WY and columns x + j·WX of the
// workgroup's (WY·RM) x (WX·RN) block, so neighbouring invocations touch neighbouring
// columns (coalesced on a GPU, adjacent SIMD lanes on a CPU).
//
// On a GPU the block's panels of A and B are staged in workgroup memory, KT steps of k at
// a time, between two barriers. A CPU implementation (lavapipe) runs a workgroup's
// invocations as SIMD lanes of one thread and pays for every barrier with a switch of all
// of them, while its caches already do what workgroup memory would: there each invocation
// reads A and B straight from storage, with no barrier at all.

/** How a matmul kernel splits C among invocations (see above). */
interface MatmulLayout {
  wx: number;
  wy: number;
  rm: number;
  rn: number;
  /** Stage panels of A and B in workgroup memory. */
  staged: boolean;
}

/**
 * The largest register blocks (rm x rn). A GPU keeps 4 x 4 per invocation in its registers.
 * lavapipe's time goes to per-lane loads (gathers), which a larger block amortizes over more
 * multiply-adds: 1024³ took 147 ms with 4 x 4 blocks, 86 ms with 8 x 8, 67 ms with 8 x 16.
 */
const GPU_MATMUL: MatmulLayout = { wx: 16, wy: 16, rm: 4, rn: 4, staged: true };
const CPU_MATMUL: MatmulLayout = { wx: 8, wy: 4, rm: 8, rn: 16, staged: false };
/** Steps of k per staged panel. */
const KT = 16;

export function renderMatmul(spec: MatmulSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const dtype = gpuDType(spec.dtype, 'matmul');
  const L = matmulLayout(spec, options);
  const wg = L.wx * L.wy;
  const sharedBytes = L.staged ? 4 * KT * (L.wy * L.rm + L.wx * L.rn) : 0;
  if (wg > limits.maxComputeInvocationsPerWorkgroup || L.wx > limits.maxComputeWorkgroupSizeX || sharedBytes > limits.maxComputeWorkgroupStorageSize) {
    throw new InternalError(`wgsl: device cannot run ${L.wx}x${L.wy} matmul workgroups`);
  }
  const extras = spec.extras ?? [];
  const epilogue = spec.epilogue ?? null;
  const nArgs = 3 + extras.length;
  if (nArgs > limits.maxStorageBuffersPerShaderStage) throw new InternalError(`wgsl: a matmul kernel needs ${nArgs} storage buffers, the device allows ${limits.maxStorageBuffersPerShaderStage}`);
  // With an epilogue, C holds the epilogue's value (a fused bias, activation or residual).
  const outDtype = epilogue === null ? dtype : gpuDType(epilogue.dtype, 'the matmul epilogue');
  const argTypes: GpuDType[] = [outDtype, dtype, dtype, ...extras.map((x, e) => gpuDType(x.dtype, `matmul operand ${3 + e}`))];
  const { m, n } = spec;
  // At least one tile each way, so that an empty C still renders (its dispatch is empty).
  const tilesM = Math.max(1, Math.ceil(m / (L.wy * L.rm)));
  const tilesN = Math.max(1, Math.ceil(n / (L.wx * L.rn)));
  const tiles = product([product(spec.batch) * tilesM * tilesN]);
  const workgroups = grid(tiles, limits);
  const uniforms = new Uniforms(nArgs, options.sizes);
  const z = sizesOfMatmul(spec, uniforms);
  const symbolicBatch = spec.batch.some((_, d) => uniforms.isSymbolic(spec.batch, d));
  const tileCount = (name: string, value: number, symbolic: boolean) =>
    sizeU32(uniforms.derived(name, value, symbolic));
  const tilesMText = tileCount('DtilesM', tilesM, uniforms.isSymbolic(spec, 'm'));
  const tilesNText = tileCount('DtilesN', tilesN, uniforms.isSymbolic(spec, 'n'));
  const symbolicTiles = symbolicBatch || uniforms.isSymbolic(spec, 'm') || uniforms.isSymbolic(spec, 'n');
  const helpers = new HelperSet();
  const batchCoords = coordinates(spec.batch.map((_, d) => uniforms.size(spec.batch, d)), 'bi', 'z');
  const main = [
    `let tile = ${linear('wid', workgroups[0], workgroups[1] > 1)};`,
    `if (tile >= ${tileCount('Dtiles', tiles, symbolicTiles)}) {`, `  return;`, `}`,
    `let tn = tile % ${tilesNText};`,
    `let tr = tile / ${tilesNText};`,
    `let tm = tr % ${tilesMText};`,
    `let bi = tr / ${tilesMText};`,
    ...batchCoords.lines,
    `let pc = ${affine(uniforms.offset(0), batchCoords.names, z.batchStrides[0]!)};`,
    `let pa = ${affine(uniforms.offset(1), batchCoords.names, z.batchStrides[1]!)};`,
    `let pb = ${affine(uniforms.offset(2), batchCoords.names, z.batchStrides[2]!)};`,
    ...z.extras.map((x, e) => `let pe${3 + e} = ${affine(uniforms.offset(3 + e), batchCoords.names, x.batchStrides)};`),
    `let r0 = tm * ${u32(L.wy * L.rm)} + lid.y;`,
    `let c0 = tn * ${u32(L.wx * L.rn)} + lid.x;`,
    ...blockIndices(L).map(([i, j]) => `var acc${i}_${j}: ${wgslType(dtype)} = ${zeroOf(dtype)};`),
    ...(L.staged ? stagedProduct(z, dtype, L) : directProduct(z, dtype, L)),
    ...matmulStores(spec, z, L, argTypes, uniforms, helpers),
  ];
  const { decls, bindings } = storageDecls(argTypes, new Set([0]));
  const T = wgslType(dtype);
  const shared = L.staged ? [`var<workgroup> ta: array<array<${T}, ${KT}>, ${L.wy * L.rm}>;`, `var<workgroup> tb: array<array<${T}, ${L.wx * L.rn}>, ${KT}>;`] : [];
  const code = assemble(decls, uniforms, nArgs, false, helpers, shared, `@compute @workgroup_size(${int(L.wx)}, ${int(L.wy)})`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {`, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return {
    code, workgroupSize: wg, vectorWidth: 1, bindings,
    dispatch: (offsets, scalars = []) => ({ workgroups: m * n === 0 ? [0, 1, 1] : workgroups, uniforms: uniforms.pack(offsets, scalars) }),
  };
}

/**
 * The device's layout, with register blocks shrunk (to powers of two, so staged panels still
 * divide evenly among invocations) where C is too small to fill them: a 10-column C would
 * otherwise compute 128 columns per row.
 */
/** A matmul's sizes as the kernel reads them: numbers, or uniform words where they are symbolic. */
interface MatmulSizes {
  batchStrides: SizeText[][];
  m: SizeText;
  n: SizeText;
  k: SizeText;
  aStrides: SizeText[];
  bStrides: SizeText[];
  extras: { batchStrides: SizeText[]; strides: SizeText[] }[];
}

function sizesOfMatmul(spec: MatmulSpec, uniforms: Uniforms): MatmulSizes {
  const each = (list: readonly number[]) => list.map((_, d) => uniforms.size(list, d));
  return {
    batchStrides: spec.batchStrides.map(each),
    m: uniforms.size(spec, 'm'),
    n: uniforms.size(spec, 'n'),
    k: uniforms.size(spec, 'k'),
    aStrides: each(spec.aStrides),
    bStrides: each(spec.bStrides),
    extras: (spec.extras ?? []).map((x) => ({ batchStrides: each(x.batchStrides), strides: each(x.strides) })),
  };
}

function matmulLayout(spec: MatmulSpec, options: WgslOptions): MatmulLayout {
  const L = options.fallbackAdapter === true ? CPU_MATMUL : GPU_MATMUL;
  const fit = (size: number, lanes: number, most: number) => Math.min(most, pow2AtLeast(Math.ceil(Math.max(1, size) / lanes)));
  return { ...L, rm: fit(spec.m, L.wy, L.rm), rn: fit(spec.n, L.wx, L.rn) };
}

function zeroOf(dtype: GpuDType): string {
  return wgslType(dtype) === 'f32' ? '0.0' : wgslType(dtype) === 'i32' ? '0i' : '0u';
}

/** Every (i, j) of an invocation's register block, row by row. */
function blockIndices(L: MatmulLayout): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < L.rm; i++) for (let j = 0; j < L.rn; j++) out.push([i, j]);
  return out;
}

/** The multiply-adds of one step of k, from `a${i}` and `w${j}`. */
function blockUpdate(dtype: GpuDType, L: MatmulLayout): string[] {
  // bool: C = OR over k of (A AND B), what casting the sum of products to bool gives.
  return blockIndices(L).map(([i, j]) => dtype === 'bool' ? `acc${i}_${j} = acc${i}_${j} | (a${i} & w${j});` : `acc${i}_${j} = acc${i}_${j} + a${i} * w${j};`);
}

/**
 * The product read straight from storage. Rows and columns past the edge of C are clamped
 * to its last row and column, so every load is in range without a branch in the loop;
 * their sums are computed and never stored. (An empty C renders m - 1 or n - 1 as a
 * wrapped u32, but is never dispatched.)
 */
function directProduct(z: MatmulSizes, dtype: GpuDType, L: MatmulLayout): string[] {
  const [sam, sak] = z.aStrides as [SizeText, SizeText];
  const [sbk, sbn] = z.bStrides as [SizeText, SizeText];
  const lines: string[] = [];
  for (let i = 0; i < L.rm; i++) lines.push(`let ra${i} = ${affine('pa', [`min(r0 + ${u32(i * L.wy)}, ${lastIndex(z.m)})`], [sam])};`);
  for (let j = 0; j < L.rn; j++) lines.push(`let cb${j} = ${affine('pb', [`min(c0 + ${u32(j * L.wx)}, ${lastIndex(z.n)})`], [sbn])};`);
  return [
    ...lines,
    `for (var kk = 0u; kk < ${sizeU32(z.k)}; kk++) {`,
    ...range(L.rm).map((i) => `  let a${i} = ${fromStorage(dtype, `b1[${affine(`ra${i}`, ['kk'], [sak])}]`)};`),
    ...range(L.rn).map((j) => `  let w${j} = ${fromStorage(dtype, `b2[${affine(`cb${j}`, ['kk'], [sbk])}]`)};`),
    ...indent(blockUpdate(dtype, L)),
    `}`,
  ];
}

/** The product from panels of A and B staged in workgroup memory, KT steps of k at a time. */
function stagedProduct(z: MatmulSizes, dtype: GpuDType, L: MatmulLayout): string[] {
  const [m, n, k] = [sizeU32(z.m), sizeU32(z.n), sizeU32(z.k)];
  const [sam, sak] = z.aStrides as [SizeText, SizeText];
  const [sbk, sbn] = z.bStrides as [SizeText, SizeText];
  const wg = L.wx * L.wy;
  const bm = L.wy * L.rm;
  const bn = L.wx * L.rn;
  const zero = zeroOf(dtype);
  // Each invocation stages (bm·KT)/wg elements of A's panel and (KT·bn)/wg of B's; past the
  // edges of A and B it stages zeros (the clamped load beside them stays in range).
  const stageA = range((bm * KT) / wg).flatMap((t) => [
    `  {`,
    `    let e = li + ${u32(t * wg)};`,
    `    let r = tm * ${u32(bm)} + e / ${u32(KT)};`,
    `    let kk = k0 + e % ${u32(KT)};`,
    `    ta[e / ${u32(KT)}][e % ${u32(KT)}] = select(${zero}, ${fromStorage(dtype, `b1[${affine('pa', [`min(r, ${lastIndex(z.m)})`, `min(kk, ${lastIndex(z.k)})`], [sam, sak])}]`)}, r < ${m} && kk < ${k});`,
    `  }`,
  ]);
  const stageB = range((KT * bn) / wg).flatMap((t) => [
    `  {`,
    `    let e = li + ${u32(t * wg)};`,
    `    let kk = k0 + e / ${u32(bn)};`,
    `    let c = tn * ${u32(bn)} + e % ${u32(bn)};`,
    `    tb[e / ${u32(bn)}][e % ${u32(bn)}] = select(${zero}, ${fromStorage(dtype, `b2[${affine('pb', [`min(kk, ${lastIndex(z.k)})`, `min(c, ${lastIndex(z.n)})`], [sbk, sbn])}]`)}, kk < ${k} && c < ${n});`,
    `  }`,
  ]);
  return [
    `for (var k0 = 0u; k0 < ${k}; k0 += ${u32(KT)}) {`,
    ...stageA,
    ...stageB,
    `  workgroupBarrier();`,
    `  for (var kk = 0u; kk < ${u32(KT)}; kk++) {`,
    ...range(L.rm).map((i) => `    let a${i} = ta[lid.y + ${u32(i * L.wy)}][kk];`),
    ...range(L.rn).map((j) => `    let w${j} = tb[kk][lid.x + ${u32(j * L.wx)}];`),
    ...indent(blockUpdate(dtype, L), '    '),
    `  }`,
    `  workgroupBarrier();`,
    `}`,
  ];
}

/** Stores every in-range element of the register block: the product, or the epilogue computed from it and the extras there. */
function matmulStores(
  spec: MatmulSpec, z: MatmulSizes, L: MatmulLayout, argTypes: readonly GpuDType[], uniforms: Uniforms, helpers: HelperSet,
): string[] {
  const [m, n] = [sizeU32(z.m), sizeU32(z.n)];
  const extras = z.extras;
  const epilogue = spec.epilogue ?? null;
  // The product, rounded to the matmul's dtype: a float16 sum accumulates in f32 and rounds once.
  const acc = argTypes[1] === 'float16' ? `${helpers.use('k_f16')}(acc)` : 'acc';
  const c = (value: string) => `b0[pc + row * ${n} + col] = ${toStorage(argTypes[0]!, value)};`;
  let store = [c(acc)];
  if (epilogue !== null) {
    const types = nodeTypes(epilogue.body, argTypes, { rows: [], scratch: [], acc: argTypes[1]! });
    if (types[epilogue.value] !== argTypes[0]) throw new InternalError(`wgsl: matmul epilogue value is ${types[epilogue.value]}, expected ${argTypes[0]}`);
    const at = (a: number) => {
      const x = extras[a - 3];
      if (x === undefined) throw new InternalError(`wgsl: matmul epilogue reads arg ${a}, which is not an extra operand`);
      return affine(`pe${a}`, ['row', 'col'], x.strides);
    };
    const body = renderBody(epilogue.body, types, { load: (a) => `b${int(a)}[${at(a)}]`, index: at, position: '0i', acc }, uniforms, helpers.use);
    store = [...body, c(`v${int(epilogue.value)}`)];
  }
  // One copy of the store in a loop over the block: unrolled, lavapipe took 10 s to compile
  // a 128-element block with a bias-relu-residual epilogue (0.2 s as a loop). The loop indexes
  // a private array, so the accumulators move there once, after the product.
  const count = L.rm * L.rn;
  return [
    `var block: array<${wgslType(argTypes[1]!)}, ${int(count)}>;`,
    ...blockIndices(L).map(([i, j]) => `block[${int(i * L.rn + j)}] = acc${i}_${j};`),
    `for (var e = 0u; e < ${u32(count)}; e++) {`,
    `  let row = r0 + (e / ${u32(L.rn)}) * ${u32(L.wy)};`,
    `  let col = c0 + (e % ${u32(L.rn)}) * ${u32(L.wx)};`,
    `  if (row < ${m} && col < ${n}) {`,
    `    let acc = block[e];`,
    ...indent(store, '    '),
    `  }`,
    `}`,
  ];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
