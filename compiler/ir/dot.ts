/**
 * A graph as Graphviz DOT text: one box per node labelled with its op, dtype and shape,
 * edges from operands, the kernels of a fusion plan as clusters, and a lifted loop's
 * condition and body as nested clusters. `dot -Tsvg` draws it.
 */
import { fmtShape } from '../../runtime/errors.js';
import type { EffectParams, Graph, Node } from './graph.js';
import { definesValue } from './kinds.js';
import { primitiveRules, type Prim } from './primitives.js';

/** A group of nodes drawn as one cluster (a kernel of a fusion plan). */
export interface DotGroup {
  label: string;
  nodes: readonly number[];
}

/** Options of `toDot`. */
export interface DotOptions {
  /** The graph's name, shown as its title. */
  title?: string;
  /** Clusters of nodes, such as a fusion plan's kernels. */
  groups?: readonly DotGroup[];
}

/** A DOT string literal. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Fill colours by kind of op, so views, reductions and matmuls stand out. */
function fill(n: Node): string {
  switch (n.op) {
    case 'input':
      return '#dbeafe';
    case 'constant':
      return '#f3f4f6';
    case 'write':
    case 'setGrad':
    case 'observe':
      return '#fee2e2';
    case 'loop':
    case 'loopResult':
      return '#ede9fe';
    default: {
      const kind = primitiveRules[n.op].kind;
      return kind === 'view' ? '#ecfccb' : kind === 'reduce' ? '#fef3c7' : kind === 'matmul' ? '#fde68a' : '#ffffff';
    }
  }
}

function label(n: Node, i: number): string {
  const head = definesValue(n.op) ? `%${i} = ${n.op}` : n.op;
  return definesValue(n.op) ? `${head}\n${n.dtype}${fmtShape(n.shape)}` : head;
}

/** The statements drawing `g`, its node ids prefixed by `prefix`. */
function body(g: Graph, prefix: string, groups: readonly DotGroup[], lines: string[], indent: string): void {
  const grouped = new Map<number, number>();
  groups.forEach((gr, k) => gr.nodes.forEach((n) => grouped.set(n, k)));
  const node = (n: Node, i: number) =>
    `${indent}${prefix}n${i} [label=${quote(label(n, i))}, fillcolor=${quote(fill(n))}];`;
  g.nodes.forEach((n, i) => {
    if (grouped.has(i)) return;
    lines.push(node(n, i));
    if (n.op === 'loop') {
      const p = n.params;
      for (const [part, sub] of [
        ['cond', p.cond],
        ['body', p.body],
      ] as const) {
        lines.push(
          `${indent}subgraph ${quote(`cluster_${prefix}loop${i}_${part}`)} {`,
          `${indent}  label=${quote(`${part} of loop %${i}`)}; style=dashed;`,
        );
        body(sub, `${prefix}l${i}${part[0]}_`, [], lines, indent + '  ');
        lines.push(`${indent}}`);
      }
    }
  });
  groups.forEach((gr, k) => {
    lines.push(
      `${indent}subgraph ${quote(`cluster_${prefix}k${k}`)} {`,
      `${indent}  label=${quote(gr.label)}; style="rounded,filled"; fillcolor="#f0f9ff";`,
    );
    for (const i of gr.nodes) lines.push('  ' + node(g.nodes[i]!, i));
    lines.push(`${indent}}`);
  });
  g.nodes.forEach((n, i) => n.inputs.forEach((x) => lines.push(`${indent}${prefix}n${x} -> ${prefix}n${i};`)));
}

/** `g` as Graphviz DOT text. */
export function toDot(g: Graph, options: DotOptions = {}): string {
  const lines = ['digraph kiln {', '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];'];
  if (options.title !== undefined) lines.push(`  label=${quote(options.title)}; labelloc=t;`);
  body(g, '', options.groups ?? [], lines, '  ');
  lines.push('}');
  return lines.join('\n');
}
