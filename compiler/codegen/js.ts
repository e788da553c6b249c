/**
 * Renders kernel specs as JavaScript. Every token comes from the spec's validated numbers,
 * dtype names and the primitive table's renderers; the result is the body of a factory
 * `(M) => kernel`, compiled once per distinct text by the CPU runtime.
 *
 * float32 values are rounded with Math.fround at every primitive boundary, so a fused
 * kernel computes exactly what the same ops computed one at a time.
 */
import { InternalError } from '../../runtime/errors.js';
import { unreachable } from '../../runtime/unreachable.js';
import { isInteger, type DType } from '../../runtime/dtype.js';
import { isElementwisePrim, type Prim } from '../ir/primitives.js';
import { M } from './js-helpers.js';
import { jsPrimitives, renderCast } from './js-prims.js';
import { renderExprs } from './expr.js';
import { noSymbolicSizes, type SymbolicSizes } from '../sizes.js';
import { constant, floorTo, mul, product, sizeAt, type Size } from './size-expr.js';
import type { Expr, KernelSpec, MapSpec, MatmulSpec, MultiSpec, RandomSpec, ReduceSpec, RowPass, RowSpec, LoopSpec } from '../kernel.js';

/**
 * Generated source for one kernel: the body of a factory taking the helpers object `M`.
 * With `interleave` false every loop runs one element (and one row) at a time: the
 * reference the interleaved loops are tested against. Size slots that `sizes` marks
 * symbolic become the kernel's leading parameters (`sizes.names`, bound to
 * `sizes.values` at launch); the others are constants of the text.
 */
export function renderJs(spec: KernelSpec, interleave = true, sizes: SymbolicSizes = noSymbolicSizes): string {
  // The renderers below are synchronous and never re-enter renderJs: one table is active at a time.
  active = sizes;
  try {
    switch (spec.kind) {
      case 'map': return renderMap(spec, interleave);
      case 'reduce': return renderReduce(spec);
      case 'matmul': return renderMatmul(spec);
      case 'random': return renderRandom(spec);
      case 'row': return renderRow(spec, interleave);
      case 'multi': return renderMulti(spec);
      case 'loop': return renderLoop(spec);
      default: return unreachable(spec, 'renderJs');
    }
  } finally {
    active = noSymbolicSizes;
  }
}

/** The symbolic size slots of the spec being rendered. */
let active: SymbolicSizes = noSymbolicSizes;

/** `owner[key]`, a size number of the spec being rendered, as source. */
const sz = (owner: object, key: string | number): Size => sizeAt(active, owner, key);

// Interleaving. Each float32 op ends in a Math.fround, so one element's work is a long
// chain of dependent instructions, and the CPU overlaps consecutive loop iterations only
// as far ahead as its scheduler reaches. Loops therefore run several copies of their body
// side by side, statement k of every copy before statement k + 1: the independent chains
// sit next to each other and overlap. (gelu(x*a+b) over 4M float32 on x64: 28.5 ms one
// element at a time, 21.4 ms with four copies; a hand-written loop that rounds only its
// result takes 19 ms.) Each copy runs exactly the statements of one element (or one row)
// in their order, so the results are bit for bit those of one element at a time: no kernel
// reads an element that another of its elements writes (eager computes a result before
// writing it, and a fused in-place write reads its target only at the element it writes).

/** Copies of an elementwise body per iteration of the innermost loop. */
const ELEMENT_COPIES = 4;
/** Rows of a row kernel processed together, each pass running over all of them at once. */
const ROW_COPIES = 4;
/** Innermost loops shorter than this run one element at a time: the extra code would not pay. */
const MIN_INTERLEAVED = 8 * ELEMENT_COPIES;
/**
 * Bytecode bytes a call of each float32 helper of f32-math.ts brings into a kernel when V8
 * inlines it, nested helpers included (--print-bytecode, Node 20). Other helpers are small.
 */
const INLINED_BYTES: Partial<Record<Prim, number>> = { erf: 150, exp: 195, sigmoid: 211, log: 220, expm1: 224, tanh: 246, log1p: 256, sin: 296, cos: 299 };
const SMALL_HELPER_BYTES = 60;
/**
 * V8 inlines calls into one function until about 920 bytes of their bytecode. A copy whose
 * call stays a call costs more than interleaving gains (measured: sin with four copies runs
 * at 1.7x the time of one), so copies are chosen to keep every call inlined.
 */
const INLINE_BUDGET = 900;

/** The most copies, up to `most`, whose helper calls all get inlined. */
function copiesFor(bodies: readonly (readonly Expr[])[], most: number): number {
  let bytes = 0;
  for (const body of bodies) {
    for (const e of body) if (e.op === 'prim' && callsHelper(e)) bytes += (e.dtype === 'float32' ? INLINED_BYTES[e.prim] : undefined) ?? SMALL_HELPER_BYTES;
  }
  let copies = most;
  while (copies > 1 && copies * bytes > INLINE_BUDGET) copies >>= 1;
  return copies;
}

function callsHelper(e: Extract<Expr, { op: 'prim' }>): boolean {
  return isElementwisePrim(e.prim) && jsPrimitives[e.prim](e.args.map(() => 'x'), e.dtype).includes('M.');
}

/** Statement k of every copy, then statement k + 1: copies must have the same statements. */
function sideBySide(copies: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < copies[0]!.length; k++) for (const c of copies) out.push(c[k]!);
  return out;
}

export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new InternalError(`codegen: ${n} is not a safe integer`);
  return String(n);
}

/** A number as JS source that evaluates to exactly that number (NaN, ±Infinity and -0 too). */
function literal(v: number): string {
  if (typeof v !== 'number') throw new InternalError(`codegen: literal ${String(v)} is not a number`);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  // String(v) is the shortest text that parses back to the same float64.
  return v < 0 ? `(${String(v)})` : String(v);
}

/** The args a body reads or writes, so a loop only advances the pointers it uses. */
function argsOf(body: readonly Expr[], also: readonly number[] = []): number[] {
  const used = new Set(also);
  for (const e of body) if (e.op === 'load' || e.op === 'gatherLoad') used.add(e.arg);
  return [...used].sort((a, b) => a - b);
}

function params(nArgs: number, nScalars: number): string {
  const names: string[] = [...active.names];
  for (let a = 0; a < nArgs; a++) names.push(`b${a}`);
  for (let a = 0; a < nArgs; a++) names.push(`o${a}`);
  for (let s = 0; s < nScalars; s++) names.push(`s${s}`);
  return names.join(', ');
}

export function scalarCount(body: readonly Expr[]): number {
  let n = 0;
  for (const e of body) if (e.op === 'scalar') n = Math.max(n, e.index + 1);
  return n;
}

/** Where one copy of a body works: arg positions, the iota position, and names. */
export interface Copy {
  pos: (arg: number) => string;
  /** The position along the iteration dimension (the `position` node). */
  position: string;
  /** Appended to every value and row name, keeping interleaved copies apart. */
  sfx: string;
  /** Index into scratch rows (row kernels). */
  scratch: string;
  /** The value of a load of `arg`, where it is not an element of a buffer (a loop kernel's variables). */
  load?: (arg: number) => string;
}

/** An element of dtype `dtype` read from storage as a value: float16 storage holds half bits. */
function loaded(element: string, dtype: DType | undefined): string {
  return dtype === 'float16' ? `${M.halfToFloat}(${element})` : element;
}

/** A value (already rounded to `dtype`) as storage of dtype `dtype` holds it. */
function stored(value: string, dtype: DType | undefined): string {
  return dtype === 'float16' ? `${M.floatToHalf}(${value})` : value;
}

/** Statements computing every node of `body` as `v<i><sfx>`, each a complete statement; `dtypes` are the args'. */
function renderBody(
  body: readonly Expr[], at: Copy, dtypes: readonly DType[], buf: (arg: number) => string = (a) => `b${int(a)}`,
): string[] {
  const { pos, sfx } = at;
  const v = (i: number) => `v${int(i)}${sfx}`;
  return renderExprs(body, {
    load: (e) => at.load?.(e.arg) ?? loaded(`${buf(e.arg)}[${pos(e.arg)}]`, dtypes[e.arg]),
    gatherLoad: (e, i, pre) => {
      const g = `g${i}${sfx}`;
      const size = sz(e, 'size').text;
      pre.push(`const ${g} = ${v(e.index)};`);
      pre.push(`if (${g} < 0 || ${g} >= ${size}) ${M.indexError}(${g}, ${size});`);
      return loaded(`${buf(e.arg)}[${pos(e.arg)} + ${g} * ${sz(e, 'stride').text}]`, dtypes[e.arg]);
    },
    scalar: (e) => renderCast(`s${int(e.index)}`, 'float64', e.dtype),
    literal: (e) => active.nameOf(e, 'value') ?? literal(e.value),
    position: () => at.position,
    row: (e) => `w${int(e.index)}${sfx}`,
    acc: () => 'acc',
    scratch: (e) => `s${int(e.index)}[${at.scratch}]`,
    prim: (e) => {
      if (!isElementwisePrim(e.prim)) throw new InternalError(`codegen: ${e.prim} is not elementwise`);
      return jsPrimitives[e.prim](e.args.map(v), e.dtype);
    },
    cast: (e) => renderCast(v(e.arg), e.from, e.to),
  }, 'const', v);
}

/** A copy at positions `pos`, with the plain names of a loop that runs one element at a time. */
function single(pos: (arg: number) => string, position: string): Copy {
  return { pos, position, sfx: '', scratch: 't' };
}

/** `p + k` as source, for a pointer `p` and an element offset `k`. */
function offset(p: string, k: Size): string {
  if (k.symbolic) return `${p} + ${k.text}`;
  return k.value === 0 ? p : k.value > 0 ? `${p} + ${int(k.value)}` : `${p} - ${int(-k.value)}`;
}

/**
 * A loop nest over `shape`. Each arg gets a pointer per level that starts at its parent
 * level's pointer and steps by its stride, so no index is ever multiplied in a loop.
 * `inner` renders the innermost work for the copies it is given: one, or with `copies`
 * > 1 a group of consecutive positions along the last dim (copy j at j strides past the
 * pointers), after which the positions left over run one at a time; `position` is the
 * index along the last dim.
 */
function loopNest(shape: readonly number[], strides: readonly (readonly number[])[], args: readonly number[], base: (arg: number) => string, prefix: string, inner: (at: Copy[]) => string[], copies = 1): string[] {
  const ptr = (d: number, a: number) => `${prefix}${d}_${a}`;
  const last = shape.length - 1;
  const indent = (lines: string[]) => lines.map((l) => '  ' + l);
  const render = (d: number, parent: (a: number) => string): string[] => {
    if (d === shape.length) return inner([single(parent, `${prefix}i${last}`)]);
    const i = `${prefix}i${d}`;
    // A zero stride (broadcast) is decided by the member's own value; it shows in the text.
    const stride = (a: number) => sz(strides[a]!, d);
    const stepped = args.filter((a) => strides[a]![d] !== 0);
    const here = (a: number) => (strides[a]![d] === 0 ? parent(a) : ptr(d, a));
    const inits = [`${i} = 0`, ...stepped.map((a) => `${ptr(d, a)} = ${parent(a)}`)];
    const steps = (n: number) => [
      n === 1 ? `${i}++` : `${i} += ${int(n)}`,
      ...stepped.map((a) => `${ptr(d, a)} += ${mul(constant(n), stride(a)).text}`),
    ];
    const n = sz(shape, d);
    if (d < last || copies === 1 || n.value < copies) {
      return [`for (let ${inits.join(', ')}; ${i} < ${n.text}; ${steps(1).join(', ')}) {`, ...indent(render(d + 1, here)), '}'];
    }
    const main = floorTo(n, copies);
    const group = Array.from({ length: copies }, (_, j): Copy => ({
      pos: (a) => offset(here(a), mul(constant(j), stride(a))),
      position: j === 0 ? i : `${i} + ${int(j)}`,
      sfx: `_${j}`,
      scratch: 't',
    }));
    // Whether a remainder loop exists is decided by the member's own size; it shows in the text.
    const rest = main.value < n.value ? [`for (; ${i} < ${n.text}; ${steps(1).join(', ')}) {`, ...indent(render(d + 1, here)), '}'] : [];
    return [`let ${inits.join(', ')};`, `for (; ${i} < ${main.text}; ${steps(copies).join(', ')}) {`, ...indent(inner(group)), '}', ...rest];
  };
  return render(0, base);
}

/** Names of a kernel's buffer and offset parameters (renumbered when kernels are merged). */
interface ArgNames {
  buf: (arg: number) => string;
  off: (arg: number) => string;
}

const ownNames: ArgNames = { buf: (a) => `b${int(a)}`, off: (a) => `o${int(a)}` };

/** Copies of a map body per iteration; gathers and scatters stay one element at a time, so a bad index throws where it did. */
function mapCopies(spec: MapSpec): number {
  if (spec.shape[spec.shape.length - 1]! < MIN_INTERLEAVED) return 1;
  if (spec.body.some((e) => e.op === 'gatherLoad') || spec.stores.some((st) => st.scatter !== undefined)) return 1;
  return copiesFor([spec.body], ELEMENT_COPIES);
}

function mapBody(spec: MapSpec, names: ArgNames, copies: number): string[] {
  const args = Array.from({ length: spec.dtypes.length }, (_, a) => a);
  const element = (at: Copy): string[] => {
    const lines = renderBody(spec.body, at, spec.dtypes, names.buf);
    for (const st of spec.stores) {
      const v = `v${int(st.node)}${at.sfx}`;
      const dt = spec.dtypes[st.arg]!;
      if (st.scatter === undefined) {
        lines.push(`${names.buf(st.arg)}[${at.pos(st.arg)}] = ${stored(v, dt)};`);
      } else {
        const { index, accumulate } = st.scatter;
        const size = sz(st.scatter, 'size').text, stride = sz(st.scatter, 'stride').text;
        const t = `t${int(st.node)}${at.sfx}`;
        lines.push(`const ${t} = v${int(index)}${at.sfx};`);
        lines.push(`if (${t} < 0 || ${t} >= ${size}) ${M.scatterIndexError}(${t}, ${size});`);
        const target = `${names.buf(st.arg)}[${at.pos(st.arg)} + ${t} * ${stride}]`;
        const dt = spec.dtypes[st.arg]!;
        const sum = accumulate ? jsPrimitives.add([loaded(target, dt), v], dt) : v;
        lines.push(`${target} = ${stored(sum, dt)};`);
      }
    }
    return lines;
  };
  return loopNest(spec.shape, spec.strides, args, names.off, 'p', (at) => sideBySide(at.map(element)), copies);
}

function renderMap(spec: MapSpec, interleave: boolean): string {
  const body = mapBody(spec, ownNames, interleave ? mapCopies(spec) : 1);
  return [`'use strict';`, `return function map(${params(spec.dtypes.length, scalarCount(spec.body))}) {`, ...body.map((l) => '  ' + l), '};'].join('\n');
}

/**
 * Accumulator start value, per-element step and final value of each reduction, for the
 * value `v`; `sfx` names the accumulator of one row among interleaved rows.
 */
function reduceParts(spec: Pick<ReduceSpec, 'op' | 'dtype' | 'outDtype'>, v = 'v', sfx = ''): { init: string[]; step: string[]; result: string } {
  const acc = `acc${sfx}`, at = `at${sfx}`, r = `r${sfx}`;
  const result = renderCast(acc, 'float64', spec.outDtype);
  switch (spec.op) {
    case 'sum': return { init: [`let ${acc} = 0;`], step: [`${acc} += ${v};`], result };
    case 'prod': {
      // Integer products wrap at every step; in float64 they would lose the low bits past 2^53.
      const step = isInteger(spec.dtype) ? `${acc} = Math.imul(${acc}, ${v});` : `${acc} *= ${v};`;
      return { init: [`let ${acc} = 1;`], step: [step], result };
    }
    // NaN wins and stays: once acc is NaN no comparison replaces it. A zero max or min is +0
    // in any order (x + 0 makes -0 +0), as the Wasm kernels' lanes fold them.
    case 'max': return { init: [`let ${acc} = -Infinity;`], step: [`if (${v} > ${acc} || ${v} !== ${v}) ${acc} = ${v} + 0;`], result };
    case 'min': return { init: [`let ${acc} = Infinity;`], step: [`if (${v} < ${acc} || ${v} !== ${v}) ${acc} = ${v} + 0;`], result };
    case 'argmax':
      return { init: [`let ${acc} = -Infinity, ${at} = 0, ${r} = 0;`], step: [`if (${v} > ${acc} || (${v} !== ${v} && ${acc} === ${acc})) { ${acc} = ${v}; ${at} = ${r}; }`, `${r}++;`], result: at };
    case 'argmin':
      return { init: [`let ${acc} = Infinity, ${at} = 0, ${r} = 0;`], step: [`if (${v} < ${acc} || (${v} !== ${v} && ${acc} === ${acc})) { ${acc} = ${v}; ${at} = ${r}; }`, `${r}++;`], result: at };
    default: return unreachable(spec.op, 'reduceParts');
  }
}

function reduceBody(spec: ReduceSpec, names: ArgNames): string[] {
  const nArgs = spec.dtypes.length;
  const inputs = Array.from({ length: nArgs - 1 }, (_, a) => a + 1);
  const all = [0, ...inputs];
  const parts = reduceParts(spec);
  const outerBody = (outerPos: (a: number) => string): string[] => [
    ...parts.init,
    ...loopNest(spec.inner, spec.innerStrides, argsOf(spec.body), outerPos, 'q', ([at]) => [
      ...renderBody(spec.body, at!, spec.dtypes, names.buf),
      `const v = v${int(spec.value)};`,
      ...parts.step,
    ]),
    `${names.buf(0)}[${outerPos(0)}] = ${stored(parts.result, spec.dtypes[0])};`,
  ];
  return loopNest(spec.outer, spec.outerStrides, all, names.off, 'p', ([at]) => outerBody(at!.pos));
}

function renderReduce(spec: ReduceSpec): string {
  const body = reduceBody(spec, ownNames);
  return [`'use strict';`, `return function reduce(${params(spec.dtypes.length, scalarCount(spec.body))}) {`, ...body.map((l) => '  ' + l), '};'].join('\n');
}

/** Several independent kernels in one function, run in order, each on its own args (one element at a time: parts add up to large functions). */
function renderMulti(spec: MultiSpec): string {
  const lines: string[] = [];
  for (const part of spec.parts) {
    const names: ArgNames = { buf: (a) => `b${int(part.args[a]!)}`, off: (a) => `o${int(part.args[a]!)}` };
    lines.push('{', ...(part.spec.kind === 'map' ? mapBody(part.spec, names, 1) : reduceBody(part.spec, names)).map((l) => '  ' + l), '}');
  }
  const scalars = Math.max(0, ...spec.parts.map((p) => scalarCount(p.spec.body)));
  if (scalars > 0) throw new InternalError('codegen: merged kernels take no scalar arguments');
  return [`'use strict';`, `return function multi(${params(spec.args, 0)}) {`, ...lines.map((l) => '  ' + l), '};'].join('\n');
}

/**
 * Rows of a row kernel processed together: reductions over a row are chains of dependent
 * adds, so several rows keep the CPU busy. Each row needs its own scratch rows, which live
 * as long as the compiled kernel, so groups stop growing at 2^20 scratch elements (8 MB).
 */
function rowCopies(spec: RowSpec, innerSize: number): number {
  if (spec.outer[spec.outer.length - 1]! < 2 * ROW_COPIES) return 1;
  let copies = copiesFor(spec.passes.map((p) => p.body), ROW_COPIES);
  while (copies > 1 && copies * innerSize * spec.scratch > 1 << 20) copies >>= 1;
  return copies;
}

/**
 * A row kernel. With several rows per group, every pass runs over all of them in one inner
 * loop (row j's elements at j outer strides past row 0's); each row keeps its own row values
 * `w<k>_j`, accumulators and scratch rows (at j inner sizes into each scratch array).
 */
function renderRow(spec: RowSpec, interleave: boolean): string {
  const nArgs = spec.dtypes.length;
  const all = Array.from({ length: nArgs }, (_, a) => a);
  const innerSize = product(spec.inner.map((_, d) => sz(spec.inner, d)));
  const copies = interleave ? rowCopies(spec, innerSize.value) : 1;
  const lastOuter = spec.outer.length - 1;
  /**
   * One inner position of a pass for every row of the group, side by side: the body, its
   * saves to scratch, then `tail` (the reduction step or the stores). Row j's elements sit
   * j outer strides past the inner pointers `at`, its scratch row j inner sizes in.
   */
  const perRow = (rows: Copy[], at: Copy, pass: Extract<RowPass, { saves: unknown }>, tail: (row: Copy, j: number) => string[]): string[] =>
    sideBySide(rows.map((r, j) => {
      const step = (a: number) => mul(constant(j), sz(spec.outerStrides[a]!, lastOuter));
      const scratch = offset('t', mul(constant(j), innerSize));
      const row: Copy = { pos: (a) => offset(at.pos(a), step(a)), position: at.position, sfx: r.sfx, scratch };
      return [...renderBody(pass.body, row, spec.dtypes), ...pass.saves.map((sv) => `s${int(sv.index)}[${row.scratch}] = v${int(sv.node)}${r.sfx};`), ...tail(row, j)];
    }));
  const groupBody = (rows: Copy[]): string[] => {
    const lines = [`let ${rows.flatMap((r) => Array.from({ length: spec.rows }, (_, k) => `w${k}${r.sfx} = 0`)).join(', ') || 'unused = 0'};`];
    for (const pass of spec.passes) {
      const block: string[] = [];
      const storeRow = (r: Copy, row: number, store: number | undefined) => (store === undefined ? [] : [
        `b${int(store)}[${r.pos(store)}] = ${stored(`w${int(row)}${r.sfx}`, spec.dtypes[store])};`,
      ]);
      switch (pass.kind) {
        case 'reduce': {
          const one = rows.length === 1;
          const parts = rows.map((r) => reduceParts(pass, one ? 'v' : `v${int(pass.value)}${r.sfx}`, r.sfx));
          block.push(...parts.flatMap((p) => p.init), 'let t = 0;');
          block.push(...loopNest(spec.inner, spec.innerStrides, argsOf(pass.body), rows[0]!.pos, 'q', ([at]) => [
            ...perRow(rows, at!, pass, (row, j) => [...(one ? [`const v = v${int(pass.value)};`] : []), ...parts[j]!.step]),
            't++;',
          ]));
          rows.forEach((r, j) => block.push(`w${int(pass.row)}${r.sfx} = ${parts[j]!.result};`, ...storeRow(r, pass.row, pass.store)));
          break;
        }
        case 'scalar':
          block.push(...sideBySide(rows.map((r) => [...renderBody(pass.body, { ...r, position: '0' }, spec.dtypes), `w${int(pass.row)}${r.sfx} = v${int(pass.value)}${r.sfx};`, ...storeRow(r, pass.row, pass.store)])));
          break;
        case 'map':
          block.push('let t = 0;');
          block.push(...loopNest(spec.inner, spec.innerStrides, argsOf(pass.body, pass.stores.map((st) => st.arg)), rows[0]!.pos, 'q', ([at]) => [
            ...perRow(rows, at!, pass, (row) => pass.stores.map((st) =>
              `b${int(st.arg)}[${row.pos(st.arg)}] = ${stored(`v${int(st.node)}${row.sfx}`, spec.dtypes[st.arg])};`)),
            't++;',
          ]));
          break;
        default:
          unreachable(pass, 'renderMulti');
      }
      lines.push('{', ...block.map((l) => '  ' + l), '}');
    }
    return lines;
  };
  const body = loopNest(spec.outer, spec.outerStrides, all, (a) => `o${a}`, 'p', groupBody, copies);
  const scalars = Math.max(0, ...spec.passes.map((p) => scalarCount(p.body)));
  // Scratch rows live as long as the kernel: values are float64 so every dtype fits exactly.
  // With a symbolic row length they grow inside the kernel to the longest row seen.
  const length = mul(innerSize, constant(copies));
  const scratch = Array.from({ length: spec.scratch }, (_, k) =>
    (length.symbolic ? `let s${k} = new Float64Array(0);` : `const s${k} = new Float64Array(${int(length.value)});`));
  const grow = !length.symbolic ? [] : Array.from({ length: spec.scratch }, (_, k) =>
    `  if (s${k}.length < ${length.text}) s${k} = new Float64Array(${length.text});`);
  const head = `return function row(${params(nArgs, scalars)}) {`;
  return [`'use strict';`, ...scratch, head, ...grow, ...body.map((l) => '  ' + l), '};'].join('\n');
}

/**
 * A 4×4 register-blocked matmul: each 4-column panel of B is packed once (contiguous, so
 * the inner loop reads it sequentially), then every 4 rows of A run a micro-kernel whose 16
 * accumulators stay in registers. Each C element is still the float64 sum over k in order,
 * so the result is the same for any blocking, and equal to eager by construction.
 */
function renderMatmul(spec: MatmulSpec): string {
  const { dtype } = spec;
  const m = sz(spec, 'm').text, n = sz(spec, 'n').text, kSize = sz(spec, 'k'), k = kSize.text;
  const [sam, sak] = [sz(spec.aStrides, 0).text, sz(spec.aStrides, 1).text];
  const sbk = sz(spec.bStrides, 0).text, sbn = sz(spec.bStrides, 1);
  const store = (x: string) => renderCast(x, 'float64', dtype);
  const { epilogue } = spec;
  const cDtype = epilogue?.dtype ?? dtype;
  const argDtypes = [cDtype, dtype, dtype, ...spec.extras.map((x) => x.dtype)];
  const extraArgs = spec.extras.map((_, e) => 3 + e);
  const range = (r: number) => Array.from({ length: r }, (_, i) => i);
  const block = (rows: number): string[] => {
    const accs = range(rows).flatMap((r) => range(4).map((c) => `c${r}${c} = 0`));
    const lines = [
      ...range(rows).map((r) => `const a${r}p = pa + (i + ${r}) * ${sam};`),
      `let ${accs.join(', ')};`,
      `for (let kk = 0, pak = 0, q = 0; kk < ${k}; kk++, pak += ${sak}, q += 4) {`,
      ...range(rows).map((r) => `  const a${r} = ${loaded(`bA[a${r}p + pak]`, dtype)};`),
      '  const b0 = bp[q], b1 = bp[q + 1], b2 = bp[q + 2], b3 = bp[q + 3];',
      // int32 wraps at every product and sum, as int32 mul then sum does.
      ...range(rows).map((r) => `  ${range(4).map((c) => (dtype === 'int32' ? `c${r}${c} = (c${r}${c} + Math.imul(a${r}, b${c})) | 0;` : `c${r}${c} += a${r} * b${c};`)).join(' ')}`),
      '}',
    ];
    for (let r = 0; r < rows; r++) {
      lines.push(`const pc${r} = pcb + (i + ${r}) * ${n} + j0;`);
      for (let c = 0; c < 4; c++) {
        const value = store(`c${r}${c}`);
        const guard = c === 0 ? '' : `if (w > ${c}) `;
        if (epilogue === null) {
          lines.push(`${guard}bC[pc${r} + ${c}] = ${stored(value, cDtype)};`);
          continue;
        }
        // The epilogue reads its operands at this output element (row i + r, column j0 + c).
        const pos = (a: number) => {
          const strides = spec.extras[a - 3]!.strides;
          return `pe${a} + (i + ${r}) * ${sz(strides, 0).text} + (j0 + ${c}) * ${sz(strides, 1).text}`;
        };
        const body = renderBody(epilogue.body, single(pos, '0'), argDtypes);
        const result = stored(`v${int(epilogue.value)}`, cDtype);
        lines.push(`${guard}{ const acc = ${value}; ${body.join(' ')} bC[pc${r} + ${c}] = ${result}; }`);
      }
    }
    return lines;
  };
  const kernel = [
    `for (let j0 = 0; j0 < ${n}; j0 += 4) {`,
    `  const w = Math.min(4, ${n} - j0);`,
    // Columns past the edge are packed as zeros; their sums are never stored.
    `  for (let kk = 0, pbk = pb + j0 * ${sbn.text}, q = 0; kk < ${k}; kk++, pbk += ${sbk}, q += 4) {`,
    `    bp[q] = ${loaded('bB[pbk]', dtype)};`,
    ...[1, 2, 3].map((c) =>
      `    bp[q + ${c}] = w > ${c} ? ${loaded(`bB[pbk + ${mul(constant(c), sbn).text}]`, dtype)} : 0;`),
    '  }',
    '  let i = 0;',
    `  for (; i + 4 <= ${m}; i += 4) {`,
    ...block(4).map((l) => '    ' + l),
    '  }',
    `  for (; i < ${m}; i++) {`,
    ...block(1).map((l) => '    ' + l),
    '  }',
    '}',
  ];
  const batchStrides = [...spec.batchStrides, ...spec.extras.map((x) => x.batchStrides)];
  const batched = loopNest(spec.batch.length ? spec.batch : [1], spec.batch.length ? batchStrides : batchStrides.map(() => [0]), [0, 1, 2, ...extraArgs],
    (a) => (a < 3 ? ['oC', 'oA', 'oB'][a]! : `o${a}`), 'p', ([{ pos }]) => [
      `const pcb = ${pos(0)}, pa = ${pos(1)}, pb = ${pos(2)};`,
      ...extraArgs.map((a) => `const pe${a} = ${pos(a)};`),
      ...kernel,
    ]);
  const names = ['bC', 'bA', 'bB', ...extraArgs.map((a) => `b${a}`), 'oC', 'oA', 'oB', ...extraArgs.map((a) => `o${a}`)];
  // The packing buffer lives with the kernel; it is sized inside the function, so kernels
  // that differ only in k (the batch of a weight gradient) share a size-generic template.
  const fourK = mul(constant(4), kSize);
  const packed = fourK.symbolic ? `Math.max(1, ${fourK.text})` : int(Math.max(1, fourK.value));
  return [
    `'use strict';`,
    `let bp = new Float64Array(0);`,
    `return function matmul(${[...active.names, ...names].join(', ')}) {`,
    `  if (bp.length < ${packed}) bp = new Float64Array(${packed});`,
    ...batched.map((l) => '  ' + l),
    '};',
  ].join('\n');
}

function renderRandom(spec: RandomSpec): string {
  const fill = `  ${M.fillUniform}(b0.subarray(o0, o0 + ${sz(spec, 'size').text}), s0, s1);`;
  return [`'use strict';`, `return function random(${params(1, 2)}) {`, fill, '};'].join('\n');
}

// ---------------------------------------------------------------------------------------
// Loop kernels
//
// Renders a loop kernel (LoopSpec, see compiler/loop-kernel.ts) as JavaScript: the loop
// variables are locals, each iteration computes the condition and the body exactly as the
// map kernels compute their elements (float32 rounded at every primitive), and the final
// values and the iteration count are stored when the condition is false. The same spec and
// the same cap as the WGSL kernel (./wgsl.ts), so the two can be checked against each other.

/** Source of the loop kernel's factory body: `(b…, o…, s…) => void`. */
export function renderLoop(spec: LoopSpec): string {
  const { carried, invariants } = spec;
  const at = (a: number): string => `b${int(a)}[o${int(a)}]`;
  const value = (a: number): string => loaded(at(a), spec.dtypes[a]);
  // Loop variables are the locals x0, x1…; invariants are read where they are used.
  const read = (j: number): string => (j < carried ? `x${int(j)}` : value(j + carried + 1));
  const exported = (j: number): string =>
    (j < carried + invariants ? read(j) : `v${int(spec.exports[j - carried - invariants]!)}c`);
  const cond = renderBody(spec.cond, { pos: () => '0', position: '0', sfx: 'c', scratch: '0', load: read }, spec.dtypes);
  const body = renderBody(spec.body, { pos: () => '0', position: '0', sfx: '', scratch: '0', load: exported }, spec.dtypes);
  const c = `v${int(spec.condValue)}c`;
  const nArgs = spec.dtypes.length;
  const scalars = Math.max(scalarCount(spec.cond), scalarCount(spec.body));
  const lines = [
    ...Array.from({ length: carried }, (_, j) => `let x${j} = ${value(carried + 1 + j)};`),
    'let n = 0;',
    'for (;;) {',
    ...cond.map((l) => '  ' + l),
    // A condition is true when nonzero and not NaN, as a `while` reads a one-element tensor.
    `  if (${c} === 0 || ${c} !== ${c}) {`,
    ...spec.exits.map((x, j) => `    ${at(j)} = ${stored(`v${int(x)}c`, spec.dtypes[j])};`),
    `    ${at(carried)} = n;`,
    '    return;',
    '  }',
    `  if (n >= ${int(spec.maxIterations)}) ${M.loopCapError}(${int(spec.maxIterations)});`,
    ...body.map((l) => '  ' + l),
    ...spec.results.map((x, j) => `  x${j} = v${int(x)};`),
    '  n++;',
    '}',
  ];
  const head = `return function loop(${params(nArgs, scalars)}) {`;
  return [`'use strict';`, head, ...lines.map((l) => '  ' + l), '};'].join('\n');
}
