/**
 * A float32 matrix product C = A·B as a WebAssembly SIMD128 module, size-generic (sizes and
 * pointers are arguments), so one compiled module serves every matmul.
 *
 * Layout: A is row-major (row stride `lda` bytes), B is packed in panels of `nr` columns
 * (panel p holds B[k][p·nr .. p·nr + nr) for every k, one row of nr floats after another,
 * columns past n as zeros), C is row-major with row stride `ldc` bytes and room for whole
 * panels. A micro-kernel keeps an mr × nr block of C in mr · nr/4 f32x4 registers and per
 * k loads one row of the panel and splats one element of each A row, as XNNPACK's f32 gemm
 * kernels do (the "splat" variants). Everything one k step loads is live at once (V8
 * schedules the loads first), so mr + nr/4 + mr · nr/4 + 1 must fit V8's 15 SIMD registers.
 *
 * Every element of C is the sum over k in order, acc = acc + a·b rounded to float32 at
 * each step (or acc = fma(a, b, acc) with relaxed SIMD), starting from 0; a k block
 * continues from the partial sums the previous block stored. So each element's value does
 * not depend on the blocking, on which rows a call covers, or on how many threads split
 * the rows: only on the kernel variant (`fma`).
 */
import type { Code } from './encoder.js';
import { ModuleBuilder, type MemoryImport } from './encoder.js';
import { emitEpilogue, epilogueParams, extraItemSize, type GemmEpilogue } from './gemm-epilogue.js';
import { WasmMath } from './math.js';

/** Which gemm module to build. */
export interface GemmSpec {
  /** Rows of the register block. */
  mr: number;
  /** Columns of the register block and of a packed panel: a multiple of 4. */
  nr: number;
  /** Fused multiply-add (relaxed SIMD) instead of a rounded multiply, then add. */
  fma: boolean;
  memory: MemoryImport;
  /** Applied to each block of C once its last k block is stored; the gemm then takes its operands too. */
  epilogue?: GemmEpilogue;
}

/**
 * Micro-kernel for `rows` rows: (a, lda, b, c, ldc, kc, load). `a` points at A[i][kb], `b`
 * at the panel's row kb, `c` at C[i][panel]; with `load` nonzero the block continues from
 * the sums C holds, else it starts from zero.
 */
function tile(code: Code, rows: number, spec: GemmSpec): void {
  const [a, lda, b, c, ldc, kc, load] = [0, 1, 2, 3, 4, 5, 6];
  const nv = spec.nr / 4;
  const ap = Array.from({ length: rows }, () => code.local('i32'));
  const bp = code.local('i32');
  const acc = Array.from({ length: rows * nv }, () => code.local('v128'));
  const bv = Array.from({ length: nv }, () => code.local('v128'));
  const s = code.local('v128');
  // The loop's pointers start as sums, (x + lda) - lda, not as the parameters themselves: V8
  // zero-extends a 32-bit address into a 64-bit register before each load unless it knows the
  // value came from a 32-bit operation, which it does not of a parameter (29 instructions a k
  // step, was 31). Measured on gemm 1024 alone, 2×16, CPU time, best of 10–16 interleaved
  // rounds on a loaded 2-core AMD EPYC: 47–49 GFLOP/s (0.93 of the ceiling), against 41–42
  // (0.80) with the parameters; (x + kc) - kc removes the same moves but V8 then gives the
  // loop other registers (its counter in r9), and ran at 0.80 again.
  const sum = (x: number, to: number) => code.get(x).get(lda).op('i32.add').get(lda).op('i32.sub').set(to);
  sum(a, ap[0]!);
  sum(b, bp);
  for (let j = 1; j < rows; j++) code.get(ap[j - 1]!).get(lda).op('i32.add').set(ap[j]!);
  const rowOf = (j: number) => code.get(c).get(ldc).i32(j).op('i32.mul').op('i32.add');
  code.get(load).open('if');
  for (let j = 0; j < rows; j++) {
    for (let v = 0; v < nv; v++) rowOf(j).simdMem('v128.load', 16 * v).set(acc[j * nv + v]!);
  }
  code.else();
  for (const x of acc) code.f32x4([0, 0, 0, 0]).set(x);
  code.end();
  // One k step a loop iteration, tested at the bottom (the driver never passes kc = 0).
  // Unrolling does not pay under V8: its scheduler hoists every load of an unrolled body to
  // the top, so the splats and B rows of four steps spill the accumulators (matmul 1024 ran
  // at 33 GFLOP/s with 5×8 unrolled 4 times, 42 with 4×8 not unrolled).
  code.open('loop');
  for (let v = 0; v < nv; v++) code.get(bp).simdMem('v128.load', 16 * v).set(bv[v]!);
  for (let j = 0; j < rows; j++) {
    code.get(ap[j]!).simdMem('v128.load32_splat').set(s);
    for (let v = 0; v < nv; v++) {
      const x = acc[j * nv + v]!;
      if (spec.fma) code.get(s).get(bv[v]!).get(x).simd('f32x4.relaxed_madd').set(x);
      else code.get(x).get(s).get(bv[v]!).simd('f32x4.mul').simd('f32x4.add').set(x);
    }
  }
  for (const p of ap) code.get(p).i32(4).op('i32.add').set(p);
  code.get(bp).i32(spec.nr * 4).op('i32.add').set(bp);
  code.get(kc).i32(1).op('i32.sub').tee(kc).indexed('br_if', 0);
  code.end();
  for (let j = 0; j < rows; j++) {
    for (let v = 0; v < nv; v++) rowOf(j).get(acc[j * nv + v]!).simdMem('v128.store', 16 * v);
  }
}

/**
 * (a, lda, b, c, ldc, kc, load, rows): one panel of C for `rows` rows, in blocks of mr rows
 * (micro-kernel `tiles[mr - 1]`) and one narrower block at the end.
 */
function rowBlocks(code: Code, tiles: readonly number[], mr: number): void {
  const [a, lda, b, c, ldc, kc, load, rows] = [0, 1, 2, 3, 4, 5, 6, 7];
  const aStep = code.local('i32'), cStep = code.local('i32');
  code.get(lda).i32(mr).op('i32.mul').set(aStep);
  code.get(ldc).i32(mr).op('i32.mul').set(cStep);
  code.open('block').open('loop');
  code.get(rows).i32(mr).op('i32.lt_s').indexed('br_if', 1);
  for (const x of [a, lda, b, c, ldc, kc, load]) code.get(x);
  code.indexed('call', tiles[mr - 1]!);
  code.get(a).get(aStep).op('i32.add').set(a);
  code.get(c).get(cStep).op('i32.add').set(c);
  code.get(rows).i32(mr).op('i32.sub').set(rows);
  code.indexed('br', 0).end().end();
  tiles.slice(0, mr - 1).forEach((fn, r) => {
    code.get(rows).i32(r + 1).op('i32.eq').open('if');
    for (const x of [a, lda, b, c, ldc, kc, load]) code.get(x);
    code.indexed('call', fn).end();
  });
}

/**
 * gemm(a, lda, b, c, ldc, m, panels, k, kc, mc, claim, chunk, pchunk, batches, sa, sb, sc):
 * C rows [0, m) of A·B for each of `batches` products (A, packed B and C of product i at a +
 * i·sa, b + i·sb, c + i·sc bytes; a stride of 0 shares one operand), as the module comment
 * says, in tiles of `chunk` (≥ 1) rows by `pchunk` (≥ 1) panels of one product, taken from a
 * shared count: `claim` is the byte address of an i32 of tiles handed out so far, zero
 * before the first call, and each tile is taken with an atomic add, tile t of a product
 * covering row range t / T and panel range t % T (T the panel ranges a row range has), so
 * every thread of a split calls the same gemm and takes tiles until none are left (a thread
 * that waits for a core takes fewer). Loops within a tile, outermost first: k blocks of
 * `kc`, row blocks of `mc`, panels, row blocks of mr; so one panel's k block (kc · nr
 * floats) stays in L1 while the micro-kernel walks the mc rows of A's k block, which stay in
 * L2 for every panel.
 *
 * With an epilogue it also takes (n, out, ldo, x₀, ldx₀, …): the output's address and row
 * stride, then each extra's address and row stride (bytes, at row 0 and column 0), and
 * after the last k block of each panel's row block (mc × nr floats of C, still in L1)
 * applies the epilogue there, for the panel's columns below n (one product: `batches` 1).
 */
function driver(code: Code, rowsFn: number, epilogueFn: number | undefined, spec: GemmSpec): void {
  const [a, lda, b, c, ldc, m, count, k, kc, mc, claim, chunk, pchunk] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const [batches, sa, sb, sc] = [13, 14, 15, 16];
  const kb = code.local('i32'), kcur = code.local('i32'), ic = code.local('i32'), mcur = code.local('i32');
  const p = code.local('i32'), pstride = code.local('i32'), r0 = code.local('i32'), end = code.local('i32');
  const ranges = code.local('i32'), t = code.local('i32'), p0 = code.local('i32'), pend = code.local('i32');
  const perProduct = code.local('i32'), product = code.local('i32');
  const at = { a: code.local('i32'), b: code.local('i32'), c: code.local('i32') };
  // select(x, y, x < y): the smaller of two values each pushed by `x` and `y`.
  const min = (x: () => void, y: () => void) => {
    x(); y(); x(); y();
    code.op('i32.lt_s').op('select');
  };
  const ceilDiv = (x: number, y: number) =>
    code.get(x).get(y).op('i32.add').i32(1).op('i32.sub').get(y).op('i32.div_u');
  code.get(k).i32(spec.nr * 4).op('i32.mul').set(pstride);
  ceilDiv(count, pchunk).set(ranges);
  ceilDiv(m, chunk).get(ranges).op('i32.mul').set(perProduct);
  code.open('block').open('loop');
  code.get(perProduct).op('i32.eqz').indexed('br_if', 1);
  code.get(claim).i32(1).atomic('i32.atomic.rmw.add').tee(t);
  code.get(perProduct).op('i32.div_u').tee(product).get(batches).op('i32.ge_u').indexed('br_if', 1);
  for (const [base, stride, local] of [[a, sa, at.a], [b, sb, at.b], [c, sc, at.c]] as const) {
    code.get(base).get(product).get(stride).op('i32.mul').op('i32.add').set(local);
  }
  code.get(t).get(perProduct).op('i32.rem_u').set(t);
  code.get(t).get(ranges).op('i32.div_u').get(chunk).op('i32.mul').set(r0);
  min(() => code.get(m), () => code.get(r0).get(chunk).op('i32.add'));
  code.set(end);
  code.get(t).get(ranges).op('i32.rem_u').get(pchunk).op('i32.mul').set(p0);
  min(() => code.get(count), () => code.get(p0).get(pchunk).op('i32.add'));
  code.set(pend);
  code.i32(0).set(kb);
  code.open('block').open('loop');
  code.get(kb).get(k).op('i32.ge_s').indexed('br_if', 1);
  min(() => code.get(k).get(kb).op('i32.sub'), () => code.get(kc));
  code.set(kcur);
  code.get(r0).set(ic);
  code.open('block').open('loop');
  code.get(ic).get(end).op('i32.ge_s').indexed('br_if', 1);
  min(() => code.get(end).get(ic).op('i32.sub'), () => code.get(mc));
  code.set(mcur);
  code.get(p0).set(p);
  code.open('block').open('loop');
  code.get(p).get(pend).op('i32.ge_s').indexed('br_if', 1);
  code.get(at.a).get(ic).get(lda).op('i32.mul').op('i32.add').get(kb).i32(4).op('i32.mul').op('i32.add');
  code.get(lda);
  code.get(at.b).get(p).get(pstride).op('i32.mul').op('i32.add').get(kb).i32(spec.nr * 4).op('i32.mul').op('i32.add');
  code.get(at.c).get(ic).get(ldc).op('i32.mul').op('i32.add').get(p).i32(spec.nr * 4).op('i32.mul').op('i32.add');
  code.get(ldc).get(kcur).get(kb).i32(0).op('i32.ne').get(mcur);
  code.indexed('call', rowsFn);
  if (epilogueFn !== undefined) {
    const site = { c: at.c, kb, kcur, ic, mcur, p, cols: code.local('i32') };
    applyEpilogue(code, epilogueFn, spec.epilogue!, spec.nr, site);
  }
  code.get(p).i32(1).op('i32.add').set(p);
  code.indexed('br', 0).end().end();
  code.get(ic).get(mc).op('i32.add').set(ic);
  code.indexed('br', 0).end().end();
  code.get(kb).get(kc).op('i32.add').set(kb);
  code.indexed('br', 0).end().end();
  code.indexed('br', 0).end().end();
}

/** The driver's locals an epilogue call reads (`c`: the product's C), and a scratch local. */
interface EpilogueSite {
  c: number;
  kb: number;
  kcur: number;
  ic: number;
  mcur: number;
  p: number;
  cols: number;
}

/**
 * In the driver's panel loop: where the k block just stored was the last, calls the
 * epilogue on the block (rows ic … ic + mcur, the panel's columns below n).
 */
function applyEpilogue(code: Code, fn: number, e: GemmEpilogue, nr: number, at: EpilogueSite): void {
  const [ldc, k, n, out, ldo] = [4, 7, 17, 18, 19];
  const { c, kb, kcur, ic, mcur, p, cols } = at;
  // Adds the byte offset of the block's first element in an operand with row stride `ld` (a
  // parameter) and columns of `size` bytes (0: an extra broadcast along n).
  const offset = (ld: number, size: number) => {
    code.get(ic).get(ld).op('i32.mul');
    if (size > 0) code.get(p).i32(nr * size).op('i32.mul').op('i32.add');
    code.op('i32.add');
  };
  code.get(kb).get(kcur).op('i32.add').get(k).op('i32.ge_s').open('if');
  code.get(n).get(p).i32(nr).op('i32.mul').op('i32.sub').set(cols);
  code.get(c);
  offset(ldc, 4);
  code.get(ldc).get(out);
  offset(ldo, 4);
  code.get(ldo).get(mcur);
  // min(nr, n - p · nr): the last panel's columns past n are padding.
  code.i32(nr).get(cols).i32(nr).get(cols).op('i32.lt_s').op('select');
  e.broadcast.forEach((broadcast, x) => {
    const [base, ld] = [20 + 2 * x, 21 + 2 * x];
    code.get(base);
    offset(ld, broadcast ? 0 : extraItemSize(e, x));
    code.get(ld);
  });
  code.indexed('call', fn);
  code.end();
}

/**
 * pack(src, ldb, dst, k, panels): B's first `panels` · nr columns (rows of ldb bytes from
 * `src`, columns contiguous) into whole panels at `dst`, as gemm reads them; the columns of
 * a last, narrower panel are left to the caller. Two panels a pass, so each row read is a
 * whole 64-byte line: a 1024 × 1024 B packed in 0.34–0.40 ms (best of 30, a loaded machine),
 * against 0.59 ms one panel a pass and 1.1–1.6 ms for the JavaScript loop.
 */
function pack(code: Code, nr: number): void {
  const [src, ldb, dst, k, count] = [0, 1, 2, 3, 4];
  const row = code.local('i32'), kk = code.local('i32'), pstride = code.local('i32'), w = code.local('i32');
  code.get(k).i32(nr * 4).op('i32.mul').set(pstride);
  code.open('block').open('loop');
  code.get(count).op('i32.eqz').indexed('br_if', 1);
  code.get(count).i32(2).get(count).i32(2).op('i32.lt_s').op('select').set(w);
  code.get(src).set(row);
  code.get(k).set(kk);
  code.open('block').open('loop');
  code.get(kk).op('i32.eqz').indexed('br_if', 1);
  for (let v = 0; v < nr / 4; v++) code.get(dst).get(row).simdMem('v128.load', 16 * v).simdMem('v128.store', 16 * v);
  code.get(w).i32(2).op('i32.eq').open('if');
  for (let v = 0; v < nr / 4; v++) {
    code.get(dst).get(pstride).op('i32.add');
    code.get(row).simdMem('v128.load', nr * 4 + 16 * v).simdMem('v128.store', 16 * v);
  }
  code.end();
  code.get(row).get(ldb).op('i32.add').set(row);
  code.get(dst).i32(nr * 4).op('i32.add').set(dst);
  code.get(kk).i32(1).op('i32.sub').set(kk);
  code.indexed('br', 0).end().end();
  code.get(src).get(w).i32(nr * 4).op('i32.mul').op('i32.add').set(src);
  code.get(dst).get(w).i32(1).op('i32.sub').get(pstride).op('i32.mul').op('i32.add').set(dst);
  code.get(count).get(w).op('i32.sub').set(count);
  code.indexed('br', 0).end().end();
}

/** The gemm module's bytes; it exports `gemm` and `pack`, and `epilogue` with one (for products with k = 0). */
export function renderGemm(spec: GemmSpec): Uint8Array {
  const module = new ModuleBuilder(spec.memory);
  const i32x = (n: number) => Array.from({ length: n }, () => 'i32' as const);
  const tiles: number[] = [];
  for (let r = 1; r <= spec.mr; r++) tiles.push(module.func(undefined, i32x(7), [], (code) => tile(code, r, spec)));
  const rowsFn = module.func(undefined, i32x(8), [], (code) => rowBlocks(code, tiles, spec.mr));
  const e = spec.epilogue;
  const math = new WasmMath(module);
  const epilogueFn = e && module.func('epilogue', i32x(epilogueParams(e)), [], (code) => emitEpilogue(code, e, math));
  const params = e === undefined ? 17 : 20 + 2 * e.broadcast.length;
  module.func('gemm', i32x(params), [], (code) => driver(code, rowsFn, epilogueFn, spec));
  module.func('pack', i32x(5), [], (code) => pack(code, spec.nr));
  return module.encode();
}
