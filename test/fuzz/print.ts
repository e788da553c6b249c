/** A program as runnable TypeScript: the function, its inputs, and the calls that show the failure. */
import { opNamed } from './ops.js';
import type { Input, Program } from './program.js';
import { lit } from './shapes.js';

function inputLiteral(x: Input, values: readonly number[]): string {
  const options = `{ shape: [${x.meta.shape.join(', ')}], dtype: '${x.meta.dtype}' }`;
  return `tensor(Float64Array.from([${values.map(lit).join(', ')}]), ${options})`;
}

/** The program's body as a function `program(v0, v1, ...)` returning its outputs. */
export function printFunction(p: Program): string {
  const lines = [`const program = (${p.inputs.map((x) => `v${x.id}: Tensor`).join(', ')}): Tensor[] => {`];
  for (const s of p.stmts) lines.push(`  const v${s.id} = ${opNamed(s.op).print(s.args.map((a) => `v${a}`), s.params)};`);
  lines.push(`  return [${p.outputs.map((o) => `v${o}`).join(', ')}];`, '};');
  return lines.join('\n');
}

/** A self-contained script reproducing `how` (eager, jit over the given call inputs, or gradients). */
export function printProgram(p: Program, header: string, calls: number[][][]): string {
  const out = [
    `// ${header}`,
    `import { gather, grad, jit, scatterAdd, tensor, where, type Tensor } from 'kiln';`,
    '',
    printFunction(p),
    '',
    `const calls = (): Tensor[][] => [`,
    ...calls.map((values) => `  [${p.inputs.map((x, i) => inputLiteral(x, values[i]!)).join(', ')}],`),
    '];',
    `const show = (ts: Tensor[]) => ts.map((t) => t.toArray());`,
    `for (const args of calls()) console.log('eager', show(program(...args)));`,
    `const f = jit(program);`,
    `for (const args of calls()) console.log('jit  ', show(f(...args)));`,
    `void grad;`,
  ];
  return out.join('\n');
}
