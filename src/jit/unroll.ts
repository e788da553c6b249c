/**
 * Recognising a loop the trace is unrolling. A `while` on tensors that the source transform
 * did not hand over (plain jit: `while (first < second)` reads both tensors through
 * valueOf) is seen by the tracer only as a run of guards, and recording a hundred thousand
 * iterations took 16 s where eager took 0.39 s. The guards of such a loop come back to the
 * same source site with the same recording between them: when the nodes between a guard
 * and the guard `p` reads before it (`p` guards per iteration, up to MAX_PERIOD) equal the
 * nodes of the iteration before, `limit` times in a row, the trace is unrolling a loop.
 *
 * Iterations are compared in a canonical form: each node's op, parameters, dtype and shape,
 * and its operands as distances back (values of this or the previous iteration) or as
 * absolute node numbers (values from before the loop). A guard compares by site and what it
 * read, not the value read, which changes from one iteration to the next.
 */
import type { Graph, Node } from '../../compiler/ir/graph.js';
import { formatParamsExact } from '../../compiler/ir/text.js';

/** Guards per iteration looked for: a condition reading up to this many values. */
const MAX_PERIOD = 4;

function paramsOf(n: Node): string {
  if (n.op !== 'observe') return formatParamsExact(n.params);
  return `${n.params.how}@${n.params.site}`;
}

/** The nodes (from, to] in canonical form. */
function segment(graph: Graph, from: number, to: number): string {
  const previous = from - (to - from);
  let text = '';
  for (let i = from + 1; i <= to; i++) {
    const n = graph.nodes[i]!;
    const inputs = n.inputs.map((x) => (x > previous ? `-${i - x}` : `@${x}`)).join(',');
    text += `${n.op}(${inputs})${paramsOf(n)}:${n.dtype}[${n.shape.join(',')}];`;
  }
  return text;
}

/** Watches the guards of one trace for a loop being unrolled. */
export class UnrollWatch {
  readonly #guards: { site: string; node: number }[] = [];
  /** Per period, the canonical text of the iteration that ended at each guard (by guard index). */
  readonly #texts: Map<number, string>[] = Array.from({ length: MAX_PERIOD + 1 }, () => new Map());
  /** Per period and site, equal iterations in a row so far. */
  readonly #runs = new Map<string, number>();

  /** `limit`: equal iterations in a row that make a loop. */
  constructor(readonly limit: number) {}

  /** Notes the guard at node `node`, read at `site`; true once it ends the `limit`-th equal iteration in a row. */
  note(graph: Graph, site: string, node: number): boolean {
    const guards = this.#guards;
    const n = guards.push({ site, node }) - 1;
    for (let p = 1; p <= MAX_PERIOD && n - p >= 0; p++) {
      const start = guards[n - p]!;
      if (start.site !== site) continue;
      const text = segment(graph, start.node, node);
      this.#texts[p]!.set(n, text);
      const key = `${p}:${site}`;
      const same = this.#texts[p]!.get(n - p) === text;
      this.#texts[p]!.delete(n - p);
      const run = same ? (this.#runs.get(key) ?? 0) + 1 : 0;
      this.#runs.set(key, run);
      // An iteration of p guards meets this site once per guard of it read here.
      let here = 0;
      for (let k = n - p + 1; k <= n; k++) if (guards[k]!.site === site) here++;
      if (run >= this.limit * here) return true;
    }
    return false;
  }
}
