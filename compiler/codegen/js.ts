/**
 * Renders kernel specs as JavaScript. Every token comes from the spec's validated numbers,
 * dtype names and the primitive table's renderers; the result is the body of a factory
 * `(M) => kernel`, compiled once per distinct text by the CPU runtime.
 *
 * float32 values are rounded with Math.fround at every primitive boundary, so a fused
 * kernel computes exactly what the same ops computed one at a time.
 */
import { InternalError } from '../../runtime/errors.js';
import { isElementwise, primitiveRules, renderCast } from '../ir/primitives.js';
import type { Expr, KernelSpec, MapSpec, MatmulSpec, MultiSpec, RandomSpec, ReduceSpec, RowSpec } from '../kernel.js';

/** Generated source for one kernel: the body of a factory taking the helpers object `M`. */
export function renderJs(spec: KernelSpec): string {
  switch (spec.kind) {
    case 'map': return renderMap(spec);
    case 'reduce': return renderReduce(spec);
    case 'matmul': return renderMatmul(spec);
    case 'random': return renderRandom(spec);
    case 'row': return renderRow(spec);
    case 'multi': return renderMulti(spec);
  }
}

function int(n: number): string {
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
  const names: string[] = [];
  for (let a = 0; a < nArgs; a++) names.push(`b${a}`);
  for (let a = 0; a < nArgs; a++) names.push(`o${a}`);
  for (let s = 0; s < nScalars; s++) names.push(`s${s}`);
  return names.join(', ');
}

function scalarCount(body: readonly Expr[]): number {
  let n = 0;
  for (const e of body) if (e.op === 'scalar') n = Math.max(n, e.index + 1);
  return n;
}

/** Statements computing every node of `body` as `v<i>`, with arg a's position in `p<a>`. */
function renderBody(body: readonly Expr[], pos: (arg: number) => string, position: string, buf: (arg: number) => string = (a) => `b${int(a)}`): string[] {
  const lines: string[] = [];
  body.forEach((e, i) => {
    let x: string;
    switch (e.op) {
      case 'load': x = `${buf(e.arg)}[${pos(e.arg)}]`; break;
      case 'gatherLoad':
        lines.push(`const g${i} = v${int(e.index)};`);
        lines.push(`if (g${i} < 0 || g${i} >= ${int(e.size)}) M.indexError(g${i}, ${int(e.size)});`);
        x = `${buf(e.arg)}[${pos(e.arg)} + g${i} * ${int(e.stride)}]`;
        break;
      case 'scalar': x = renderCast(`s${int(e.index)}`, 'float64', e.dtype); break;
      case 'literal': x = literal(e.value); break;
      case 'position': x = position; break;
      case 'row': x = `w${int(e.index)}`; break;
      case 'acc': x = 'acc'; break;
      case 'scratch': x = `s${int(e.index)}[t]`; break;
      case 'prim': {
        const rule = primitiveRules[e.prim];
        if (!isElementwise(rule)) throw new InternalError(`codegen: ${e.prim} is not elementwise`);
        x = rule.js(e.args.map((a) => `v${int(a)}`), e.dtype);
        break;
      }
      case 'cast': x = renderCast(`v${int(e.arg)}`, e.from, e.to); break;
    }
    lines.push(`const v${i} = ${x};`);
  });
  return lines;
}

/**
 * A loop nest over `shape`. Each arg gets a pointer per level that starts at its parent
 * level's pointer and steps by its stride, so no index is ever multiplied in a loop.
 */
function loopNest(shape: readonly number[], strides: readonly (readonly number[])[], args: readonly number[], base: (arg: number) => string, prefix: string, inner: (pos: (arg: number) => string, counter: string) => string[]): string[] {
  const ptr = (d: number, a: number) => `${prefix}${d}_${a}`;
  const render = (d: number, parent: (a: number) => string): string[] => {
    if (d === shape.length) return inner(parent, `${prefix}i${shape.length - 1}`);
    const inits = [`${prefix}i${d} = 0`];
    const steps = [`${prefix}i${d}++`];
    for (const a of args) {
      const s = strides[a]![d]!;
      if (s === 0) continue;
      inits.push(`${ptr(d, a)} = ${parent(a)}`);
      steps.push(`${ptr(d, a)} += ${int(s)}`);
    }
    const here = (a: number) => (strides[a]![d] === 0 ? parent(a) : ptr(d, a));
    return [
      `for (let ${inits.join(', ')}; ${prefix}i${d} < ${int(shape[d]!)}; ${steps.join(', ')}) {`,
      ...render(d + 1, here).map((l) => '  ' + l),
      '}',
    ];
  };
  return render(0, base);
}

/** Names of a kernel's buffer and offset parameters (renumbered when kernels are merged). */
interface ArgNames {
  buf: (arg: number) => string;
  off: (arg: number) => string;
}

const ownNames: ArgNames = { buf: (a) => `b${int(a)}`, off: (a) => `o${int(a)}` };

function mapBody(spec: MapSpec, names: ArgNames): string[] {
  const args = Array.from({ length: spec.dtypes.length }, (_, a) => a);
  return loopNest(spec.shape, spec.strides, args, names.off, 'p', (pos, counter) => {
    const lines = renderBody(spec.body, pos, counter, names.buf);
    for (const st of spec.stores) {
      const v = `v${int(st.node)}`;
      if (st.scatter === undefined) {
        lines.push(`${names.buf(st.arg)}[${pos(st.arg)}] = ${v};`);
      } else {
        const { index, stride, size, accumulate } = st.scatter;
        lines.push(`const t${int(st.node)} = v${int(index)};`);
        lines.push(`if (t${int(st.node)} < 0 || t${int(st.node)} >= ${int(size)}) M.scatterIndexError(t${int(st.node)}, ${int(size)});`);
        const target = `${names.buf(st.arg)}[${pos(st.arg)} + t${int(st.node)} * ${int(stride)}]`;
        const dt = spec.dtypes[st.arg]!;
        const addRule = primitiveRules.add;
        if (accumulate && !isElementwise(addRule)) throw new InternalError('codegen: add is not elementwise');
        lines.push(accumulate && isElementwise(addRule) ? `${target} = ${addRule.js([target, v], dt)};` : `${target} = ${v};`);
      }
    }
    return lines;
  });
}

function renderMap(spec: MapSpec): string {
  const body = mapBody(spec, ownNames);
  return [`'use strict';`, `return function map(${params(spec.dtypes.length, scalarCount(spec.body))}) {`, ...body.map((l) => '  ' + l), '};'].join('\n');
}

/** Accumulator start value, per-element step and final value of each reduction. */
function reduceParts(spec: Pick<ReduceSpec, 'op' | 'dtype' | 'outDtype'>): { init: string[]; step: string[]; result: string } {
  const acc = renderCast('acc', 'float64', spec.outDtype);
  switch (spec.op) {
    case 'sum': return { init: ['let acc = 0;'], step: ['acc += v;'], result: acc };
    case 'prod': return { init: ['let acc = 1;'], step: [spec.dtype === 'int32' ? 'acc = Math.imul(acc, v);' : 'acc *= v;'], result: acc };
    // NaN wins and stays: once acc is NaN no comparison replaces it.
    case 'max': return { init: ['let acc = -Infinity;'], step: ['if (v > acc || v !== v) acc = v;'], result: acc };
    case 'min': return { init: ['let acc = Infinity;'], step: ['if (v < acc || v !== v) acc = v;'], result: acc };
    case 'argmax':
      return { init: ['let acc = -Infinity, at = 0, r = 0;'], step: ['if (v > acc || (v !== v && acc === acc)) { acc = v; at = r; }', 'r++;'], result: 'at' };
    case 'argmin':
      return { init: ['let acc = Infinity, at = 0, r = 0;'], step: ['if (v < acc || (v !== v && acc === acc)) { acc = v; at = r; }', 'r++;'], result: 'at' };
  }
}

function reduceBody(spec: ReduceSpec, names: ArgNames): string[] {
  const nArgs = spec.dtypes.length;
  const inputs = Array.from({ length: nArgs - 1 }, (_, a) => a + 1);
  const all = [0, ...inputs];
  const parts = reduceParts(spec);
  const outerBody = (outerPos: (a: number) => string): string[] => [
    ...parts.init,
    ...loopNest(spec.inner, spec.innerStrides, argsOf(spec.body), outerPos, 'q', (pos, counter) => [
      ...renderBody(spec.body, pos, counter, names.buf),
      `const v = v${int(spec.value)};`,
      ...parts.step,
    ]),
    `${names.buf(0)}[${outerPos(0)}] = ${parts.result};`,
  ];
  return loopNest(spec.outer, spec.outerStrides, all, names.off, 'p', (pos) => outerBody(pos));
}

function renderReduce(spec: ReduceSpec): string {
  const body = reduceBody(spec, ownNames);
  return [`'use strict';`, `return function reduce(${params(spec.dtypes.length, scalarCount(spec.body))}) {`, ...body.map((l) => '  ' + l), '};'].join('\n');
}

/** Several independent kernels in one function, run in order, each on its own args. */
function renderMulti(spec: MultiSpec): string {
  const lines: string[] = [];
  for (const part of spec.parts) {
    const names: ArgNames = { buf: (a) => `b${int(part.args[a]!)}`, off: (a) => `o${int(part.args[a]!)}` };
    lines.push('{', ...(part.spec.kind === 'map' ? mapBody(part.spec, names) : reduceBody(part.spec, names)).map((l) => '  ' + l), '}');
  }
  const scalars = Math.max(0, ...spec.parts.map((p) => scalarCount(p.spec.body)));
  if (scalars > 0) throw new InternalError('codegen: merged kernels take no scalar arguments');
  return [`'use strict';`, `return function multi(${params(spec.args, 0)}) {`, ...lines.map((l) => '  ' + l), '};'].join('\n');
}

function renderRow(spec: RowSpec): string {
  const nArgs = spec.dtypes.length;
  const all = Array.from({ length: nArgs }, (_, a) => a);
  const rowBody = (outerPos: (a: number) => string): string[] => {
    const lines = [`let ${Array.from({ length: spec.rows }, (_, k) => `w${k} = 0`).join(', ') || 'unused = 0'};`];
    for (const pass of spec.passes) {
      const block: string[] = [];
      switch (pass.kind) {
        case 'reduce': {
          const parts = reduceParts(pass);
          block.push(...parts.init, 'let t = 0;');
          block.push(...loopNest(spec.inner, spec.innerStrides, argsOf(pass.body), outerPos, 'q', (pos, counter) => [
            ...renderBody(pass.body, pos, counter),
            ...pass.saves.map((sv) => `s${int(sv.index)}[t] = v${int(sv.node)};`),
            `const v = v${int(pass.value)};`,
            ...parts.step,
            't++;',
          ]));
          block.push(`w${int(pass.row)} = ${parts.result};`);
          if (pass.store !== undefined) block.push(`b${int(pass.store)}[${outerPos(pass.store)}] = w${int(pass.row)};`);
          break;
        }
        case 'scalar':
          block.push(...renderBody(pass.body, outerPos, '0'));
          block.push(`w${int(pass.row)} = v${int(pass.value)};`);
          if (pass.store !== undefined) block.push(`b${int(pass.store)}[${outerPos(pass.store)}] = w${int(pass.row)};`);
          break;
        case 'map':
          block.push('let t = 0;');
          block.push(...loopNest(spec.inner, spec.innerStrides, argsOf(pass.body, pass.stores.map((st) => st.arg)), outerPos, 'q', (pos, counter) => [
            ...renderBody(pass.body, pos, counter),
            ...pass.saves.map((sv) => `s${int(sv.index)}[t] = v${int(sv.node)};`),
            ...pass.stores.map((st) => `b${int(st.arg)}[${pos(st.arg)}] = v${int(st.node)};`),
            't++;',
          ]));
          break;
      }
      lines.push('{', ...block.map((l) => '  ' + l), '}');
    }
    return lines;
  };
  const body = loopNest(spec.outer, spec.outerStrides, all, (a) => `o${a}`, 'p', (pos) => rowBody(pos));
  const scalars = Math.max(0, ...spec.passes.map((p) => scalarCount(p.body)));
  // Scratch rows live as long as the kernel: values are float64 so every dtype fits exactly.
  const innerSize = spec.inner.reduce((a, b) => a * b, 1);
  const scratch = Array.from({ length: spec.scratch }, (_, k) => `const s${k} = new Float64Array(${int(innerSize)});`);
  return [`'use strict';`, ...scratch, `return function row(${params(nArgs, scalars)}) {`, ...body.map((l) => '  ' + l), '};'].join('\n');
}

/**
 * A 4×4 register-blocked matmul: each 4-column panel of B is packed once (contiguous, so
 * the inner loop reads it sequentially), then every 4 rows of A run a micro-kernel whose 16
 * accumulators stay in registers. Each C element is still the float64 sum over k in order,
 * so the result is the same for any blocking, and equal to eager by construction.
 */
function renderMatmul(spec: MatmulSpec): string {
  const { m, n, k, dtype } = spec;
  const [sam, sak] = spec.aStrides;
  const [sbk, sbn] = spec.bStrides;
  const store = (x: string) => renderCast(x, 'float64', dtype);
  const { epilogue } = spec;
  const extraArgs = spec.extras.map((_, e) => 3 + e);
  const range = (r: number) => Array.from({ length: r }, (_, i) => i);
  const block = (rows: number): string[] => {
    const accs = range(rows).flatMap((r) => range(4).map((c) => `c${r}${c} = 0`));
    const lines = [
      ...range(rows).map((r) => `const a${r}p = pa + (i + ${r}) * ${int(sam)};`),
      `let ${accs.join(', ')};`,
      `for (let kk = 0, pak = 0, q = 0; kk < ${int(k)}; kk++, pak += ${int(sak)}, q += 4) {`,
      ...range(rows).map((r) => `  const a${r} = bA[a${r}p + pak];`),
      '  const b0 = bp[q], b1 = bp[q + 1], b2 = bp[q + 2], b3 = bp[q + 3];',
      ...range(rows).map((r) => `  ${range(4).map((c) => `c${r}${c} += a${r} * b${c};`).join(' ')}`),
      '}',
    ];
    for (let r = 0; r < rows; r++) {
      lines.push(`const pc${r} = pcb + (i + ${r}) * ${int(n)} + j0;`);
      for (let c = 0; c < 4; c++) {
        const value = store(`c${r}${c}`);
        const guard = c === 0 ? '' : `if (w > ${c}) `;
        if (epilogue === null) {
          lines.push(`${guard}bC[pc${r} + ${c}] = ${value};`);
          continue;
        }
        // The epilogue reads its operands at this output element (row i + r, column j0 + c).
        const pos = (a: number) => {
          const [sm, sn] = spec.extras[a - 3]!.strides;
          return `pe${a} + (i + ${r}) * ${int(sm)} + (j0 + ${c}) * ${int(sn)}`;
        };
        const body = renderBody(epilogue.body, pos, '0');
        lines.push(`${guard}{ const acc = ${value}; ${body.join(' ')} bC[pc${r} + ${c}] = v${int(epilogue.value)}; }`);
      }
    }
    return lines;
  };
  const kernel = [
    `for (let j0 = 0; j0 < ${int(n)}; j0 += 4) {`,
    `  const w = Math.min(4, ${int(n)} - j0);`,
    // Columns past the edge are packed as zeros; their sums are never stored.
    `  for (let kk = 0, pbk = pb + j0 * ${int(sbn)}, q = 0; kk < ${int(k)}; kk++, pbk += ${int(sbk)}, q += 4) {`,
    `    bp[q] = bB[pbk];`,
    ...[1, 2, 3].map((c) => `    bp[q + ${c}] = w > ${c} ? bB[pbk + ${c * sbn}] : 0;`),
    '  }',
    '  let i = 0;',
    `  for (; i + 4 <= ${int(m)}; i += 4) {`,
    ...block(4).map((l) => '    ' + l),
    '  }',
    `  for (; i < ${int(m)}; i++) {`,
    ...block(1).map((l) => '    ' + l),
    '  }',
    '}',
  ];
  const batchStrides = [...spec.batchStrides, ...spec.extras.map((x) => x.batchStrides)];
  const batched = loopNest(spec.batch.length ? spec.batch : [1], spec.batch.length ? batchStrides : batchStrides.map(() => [0]), [0, 1, 2, ...extraArgs],
    (a) => (a < 3 ? ['oC', 'oA', 'oB'][a]! : `o${a}`), 'p', (pos) => [
      `const pcb = ${pos(0)}, pa = ${pos(1)}, pb = ${pos(2)};`,
      ...extraArgs.map((a) => `const pe${a} = ${pos(a)};`),
      ...kernel,
    ]);
  const names = ['bC', 'bA', 'bB', ...extraArgs.map((a) => `b${a}`), 'oC', 'oA', 'oB', ...extraArgs.map((a) => `o${a}`)];
  return [
    `'use strict';`,
    `const bp = new Float64Array(${int(Math.max(1, 4 * k))});`,
    `return function matmul(${names.join(', ')}) {`,
    ...batched.map((l) => '  ' + l),
    '};',
  ].join('\n');
}

function renderRandom(spec: RandomSpec): string {
  return [`'use strict';`, `return function random(b0, o0, s0, s1) {`, `  M.fillUniform(b0.subarray(o0, o0 + ${int(spec.size)}), s0, s1);`, '};'].join('\n');
}
