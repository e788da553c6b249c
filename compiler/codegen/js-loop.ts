/**
 * Renders a loop kernel (LoopSpec, see compiler/loop-kernel.ts) as JavaScript: the loop
 * variables are locals, each iteration computes the condition and the body exactly as the
 * map kernels compute their elements (float32 rounded at every primitive), and the final
 * values and the iteration count are stored when the condition is false. The same spec and
 * the same cap as the WGSL kernel (./wgsl-loop.ts), so the two can be checked against each other.
 */
import type { LoopSpec } from '../kernel.js';
import { int, params, renderBody, scalarCount } from './js.js';
import { M } from './js-helpers.js';

/** Source of the loop kernel's factory body: `(b…, o…, s…) => void`. */
export function renderLoop(spec: LoopSpec): string {
  const { carried, invariants } = spec;
  const at = (a: number): string => `b${int(a)}[o${int(a)}]`;
  // Loop variables are the locals x0, x1…; invariants are read where they are used.
  const read = (j: number): string => (j < carried ? `x${int(j)}` : at(j + carried + 1));
  const exported = (j: number): string =>
    (j < carried + invariants ? read(j) : `v${int(spec.exports[j - carried - invariants]!)}c`);
  const cond = renderBody(spec.cond, { pos: () => '0', position: '0', sfx: 'c', scratch: '0', load: read });
  const body = renderBody(spec.body, { pos: () => '0', position: '0', sfx: '', scratch: '0', load: exported });
  const c = `v${int(spec.condValue)}c`;
  const nArgs = spec.dtypes.length;
  const scalars = Math.max(scalarCount(spec.cond), scalarCount(spec.body));
  const lines = [
    ...Array.from({ length: carried }, (_, j) => `let x${j} = ${at(carried + 1 + j)};`),
    'let n = 0;',
    'for (;;) {',
    ...cond.map((l) => '  ' + l),
    // A condition is true when nonzero and not NaN, as a `while` reads a one-element tensor.
    `  if (${c} === 0 || ${c} !== ${c}) {`,
    ...spec.exits.map((x, j) => `    ${at(j)} = v${int(x)}c;`),
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
