/**
 * A float32 matrix product C = A·B as a WebAssembly SIMD128 module, size-generic (sizes and
 * pointers are arguments), so one compiled module serves every matmul.
 *
 * Layout: A is row-major (row stride `lda` bytes), B is packed in panels of `nr` columns
 * (panel p holds B[k][p·nr .. p·nr + nr) for every k, one row of nr floats after another,
 * columns past n as zeros), C is row-major with row stride `ldc` bytes and room for whole
 * panels. The driver walks k in blocks of `kc`, rows in blocks of `mr`, then panels; a
 * micro-kernel keeps an mr × nr block of C in mr · nr/4 f32x4 registers and per k loads one
 * row of the panel and splats one element of each A row, as XNNPACK's f32 gemm kernels
 * do (the "splat" variants).
 *
 * Every element of C is the sum over k in order, acc = acc + a·b rounded to float32 at
 * each step (or acc = fma(a, b, acc) with relaxed SIMD), starting from 0; a k block
 * continues from the partial sums the previous block stored. So each element's value does
 * not depend on the blocking, on which rows a call covers, or on how many threads split
 * the rows: only on the kernel variant (`fma`).
 */
import type { Code } from './encoder.js';
import { ModuleBuilder, type MemoryImport } from './encoder.js';

/** Which gemm module to build. */
export interface GemmSpec {
  /** Rows of the register block. */
  mr: number;
  /** Columns of the register block and of a packed panel: a multiple of 4. */
  nr: number;
  /** Fused multiply-add (relaxed SIMD) instead of a rounded multiply, then add. */
  fma: boolean;
  memory: MemoryImport;
}

/** k steps unrolled in the micro-kernel's main loop. */
const UNROLL = 4;

/**
 * Micro-kernel for `rows` rows: (a, lda, b, c, ldc, kc, load). `a` points at A[i][kb], `b`
 * at the panel's row kb, `c` at C[i][panel]; with `load` nonzero the block continues from
 * the sums C holds, else it starts from zero.
 */
function tile(code: Code, rows: number, spec: GemmSpec): void {
  const [a, lda, b, c, ldc, kc, load] = [0, 1, 2, 3, 4, 5, 6];
  const nv = spec.nr / 4;
  const ap = Array.from({ length: rows }, (_, j) => (j === 0 ? a : code.local('i32')));
  const acc = Array.from({ length: rows * nv }, () => code.local('v128'));
  const bv = Array.from({ length: nv }, () => code.local('v128'));
  const s = code.local('v128');
  for (let j = 1; j < rows; j++) code.get(ap[j - 1]!).get(lda).op('i32.add').set(ap[j]!);
  const rowOf = (j: number) => code.get(c).get(ldc).i32(j).op('i32.mul').op('i32.add');
  code.get(load).open('if');
  for (let j = 0; j < rows; j++) {
    for (let v = 0; v < nv; v++) rowOf(j).simdMem('v128.load', 16 * v).set(acc[j * nv + v]!);
  }
  code.else();
  for (const x of acc) code.f32x4([0, 0, 0, 0]).set(x);
  code.end();
  const step = (u: number) => {
    for (let v = 0; v < nv; v++) code.get(b).simdMem('v128.load', (u * spec.nr + 4 * v) * 4).set(bv[v]!);
    for (let j = 0; j < rows; j++) {
      code.get(ap[j]!).simdMem('v128.load32_splat', 4 * u).set(s);
      for (let v = 0; v < nv; v++) {
        const x = acc[j * nv + v]!;
        if (spec.fma) code.get(s).get(bv[v]!).get(x).simd('f32x4.relaxed_madd').set(x);
        else code.get(x).get(s).get(bv[v]!).simd('f32x4.mul').simd('f32x4.add').set(x);
      }
    }
  };
  const advance = (steps: number) => {
    for (const p of ap) code.get(p).i32(4 * steps).op('i32.add').set(p);
    code.get(b).i32(spec.nr * 4 * steps).op('i32.add').set(b);
    code.get(kc).i32(steps).op('i32.sub').set(kc);
  };
  code.open('block').open('loop');
  code.get(kc).i32(UNROLL).op('i32.lt_s').indexed('br_if', 1);
  for (let u = 0; u < UNROLL; u++) step(u);
  advance(UNROLL);
  code.indexed('br', 0).end().end();
  code.open('block').open('loop');
  code.get(kc).op('i32.eqz').indexed('br_if', 1);
  step(0);
  advance(1);
  code.indexed('br', 0).end().end();
  for (let j = 0; j < rows; j++) {
    for (let v = 0; v < nv; v++) rowOf(j).get(acc[j * nv + v]!).simdMem('v128.store', 16 * v);
  }
}

/** (a, lda, b, c, ldc, kc, load, panels, pstride): the micro-kernel `tileIndex` over every panel. */
function panels(code: Code, tileIndex: number, nr: number): void {
  const [a, lda, b, c, ldc, kc, load, count, pstride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  code.open('block').open('loop');
  code.get(count).op('i32.eqz').indexed('br_if', 1);
  for (const x of [a, lda, b, c, ldc, kc, load]) code.get(x);
  code.indexed('call', tileIndex);
  code.get(b).get(pstride).op('i32.add').set(b);
  code.get(c).i32(nr * 4).op('i32.add').set(c);
  code.get(count).i32(1).op('i32.sub').set(count);
  code.indexed('br', 0).end().end();
}

/** gemm(a, lda, b, c, ldc, m, panels, k, kc): C rows [0, m) of A·B, as the module comment says. */
function driver(code: Code, panelFns: readonly number[], spec: GemmSpec): void {
  const [a, lda, b, c, ldc, m, count, k, kc] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const kb = code.local('i32'), kcur = code.local('i32'), i = code.local('i32');
  const rows = code.local('i32'), pstride = code.local('i32');
  code.get(k).i32(spec.nr * 4).op('i32.mul').set(pstride);
  code.open('block').open('loop');
  code.get(kb).get(k).op('i32.ge_s').indexed('br_if', 1);
  code.get(k).get(kb).op('i32.sub').get(kc).get(k).get(kb).op('i32.sub').get(kc).op('i32.lt_s').op('select').set(kcur);
  code.i32(0).set(i);
  code.open('block').open('loop');
  code.get(i).get(m).op('i32.ge_s').indexed('br_if', 1);
  code.get(m).get(i).op('i32.sub').i32(spec.mr);
  code.get(m).get(i).op('i32.sub').i32(spec.mr).op('i32.lt_s').op('select').set(rows);
  panelFns.forEach((fn, r) => {
    code.get(rows).i32(r + 1).op('i32.eq').open('if');
    code.get(a).get(i).get(lda).op('i32.mul').op('i32.add').get(kb).i32(4).op('i32.mul').op('i32.add');
    code.get(lda);
    code.get(b).get(kb).i32(spec.nr * 4).op('i32.mul').op('i32.add');
    code.get(c).get(i).get(ldc).op('i32.mul').op('i32.add');
    code.get(ldc).get(kcur).get(kb).i32(0).op('i32.ne').get(count).get(pstride);
    code.indexed('call', fn).end();
  });
  code.get(i).i32(spec.mr).op('i32.add').set(i);
  code.indexed('br', 0).end().end();
  code.get(kb).get(kc).op('i32.add').set(kb);
  code.indexed('br', 0).end().end();
}

/** The gemm module's bytes; it exports `gemm`. */
export function renderGemm(spec: GemmSpec): Uint8Array {
  const module = new ModuleBuilder(spec.memory);
  const i32x = (n: number) => Array.from({ length: n }, () => 'i32' as const);
  const panelFns: number[] = [];
  for (let r = 1; r <= spec.mr; r++) {
    const t = module.func(undefined, i32x(7), [], (code) => tile(code, r, spec));
    panelFns.push(module.func(undefined, i32x(9), [], (code) => panels(code, t, spec.nr)));
  }
  module.func('gemm', i32x(9), [], (code) => driver(code, panelFns, spec));
  return module.encode();
}
