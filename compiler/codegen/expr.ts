/**
 * The expression DAG walk the renderers share: every node of a kernel body becomes one
 * named value computed from earlier ones, in order. Each language spells the kinds of node
 * in its own table (JavaScript in js.ts, WGSL in wgsl/body.ts); the walk, the naming and
 * the shape of the statements live here once.
 */
import type { Expr } from '../kernel.js';

/** The node of kind `K`. */
export type ExprNode<K extends Expr['op']> = Extract<Expr, { op: K }>;

/**
 * How one language writes each kind of node: the text of node `i`'s value, after pushing
 * onto `pre` any statements that must run first (an index check, say). Typed over every
 * kind, so a new kind of node fails to compile until each language spells it.
 */
export type ExprSpelling = {
  [K in Expr['op']]: (e: ExprNode<K>, i: number, pre: string[]) => string;
};

/** Statements `${declare} ${name(i)} = <value>;` for every node of `body`, each after those its spelling put first. */
export function renderExprs(
  body: readonly Expr[], spelling: ExprSpelling, declare: 'const' | 'let', name: (i: number) => string,
): string[] {
  const lines: string[] = [];
  body.forEach((e, i) => {
    // The table is indexed by the node's own kind, so the node fits its entry.
    const spell = spelling[e.op] as (e: Expr, i: number, pre: string[]) => string;
    const value = spell(e, i, lines);
    lines.push(`${declare} ${name(i)} = ${value};`);
  });
  return lines;
}
