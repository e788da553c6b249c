/** A compiled CPU kernel: buffers first, then their element offsets, then scalar arguments. */
export type CpuKernel = (...args: any[]) => void;

const cache = new Map<string, CpuKernel>();
let compilations = 0;

/**
 * Size-generic kernels. Generated kernels bake sizes, strides and loop bounds in as integer
 * literals, so the same computation at another size is another text. Texts that differ
 * only in integer literals form a family. When a family has seen enough members, each
 * literal is fitted as an integer-affine function of up to three of its literals (the
 * pivots: sizes, say the batch and a layer's widths), and the family gets a template whose
 * kernel takes the pivots as extra first parameters; every later member the template fits
 * is the template bound to its pivot values — no new compilation, and V8's optimized code
 * for the template is shared. A text is only bound when evaluating the template at its
 * pivot values gives back exactly its literals, so a bound kernel runs the program its own
 * text would.
 */
interface Template {
  kernel: CpuKernel;
  /** Literal positions whose values are the template's parameters. */
  pivots: number[];
  /** Per literal: [constant, coefficient per pivot]. */
  terms: number[][];
  /** The members it was fitted from. */
  points: number[][];
}

interface Family {
  /** Literals of members no template fits yet, newest last. */
  members: number[][];
  templates: Template[];
}

/** Members and templates kept per family. */
const FAMILY_LIMIT = 8;
/** At most this many parameters per template: sizes along up to three dims (a matmul's m, n, k). */
const MAX_PIVOTS = 3;

const families = new Map<string, Family>();

/** Stands for a literal in a skeleton; generated source never contains it. */
const MARK = '\u0001';
/** Integer literals of generated source (not digits of identifiers, decimals or exponents). */
const INTEGER = /(?<![\w.$]|[eE][-+])\d+(?![\w.])/g;
/** The kernel function a source returns, whose parameter list the template extends. */
const KERNEL_HEAD = /return function (\w+)\(([^)]*)\)/;

function literalsOf(source: string): { skeleton: string; literals: number[] } {
  const literals: number[] = [];
  const skeleton = source.replace(INTEGER, (m) => {
    literals.push(Number(m));
    return MARK;
  });
  return { skeleton, literals };
}

function det(m: readonly (readonly number[])[]): number {
  if (m.length === 1) return m[0]![0]!;
  if (m.length === 2) return m[0]![0]! * m[1]![1]! - m[0]![1]! * m[1]![0]!;
  return m[0]!.reduce((sum, x, j) => sum + (j % 2 === 0 ? 1 : -1) * x * det(m.slice(1).map((row) => row.filter((_, k) => k !== j))), 0);
}

/** The integer solution of `rows` · t = `y` (Cramer's rule), or null when there is none. */
function solveIntegers(rows: readonly (readonly number[])[], y: readonly number[]): number[] | null {
  const d = det(rows);
  if (d === 0) return null;
  const t = rows.map((_, j) => det(rows.map((row, i) => row.map((x, k) => (k === j ? y[i]! : x)))) / d);
  return t.every(Number.isSafeInteger) ? t : null;
}

/** The value `terms` give for pivot values `x`. */
const evaluate = (terms: readonly number[], x: readonly number[]): number => terms.reduce((sum, c, j) => sum + (j === 0 ? c : c * x[j - 1]!), 0);

/** Subsets of `n` indices of size `k`, in order. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (let i = k - 1; i < n; i++) for (const s of subsets(i, k - 1)) out.push([...s, i]);
  return out;
}

/**
 * Integer terms t with `rows[m]` · t = `y[m]` for every m (rows are [1, pivot values]):
 * solved on the first subset of rows that determines them, then checked on all. Null when
 * no integer terms fit every row.
 */
function fitTerms(rows: readonly (readonly number[])[], y: readonly number[]): number[] | null {
  const unknowns = rows[0]!.length;
  for (const pick of subsets(rows.length, unknowns)) {
    const sub = pick.map((m) => rows[m]!);
    if (det(sub) === 0) continue;
    const t = solveIntegers(sub, pick.map((m) => y[m]!));
    return t !== null && rows.every((row, m) => evaluate(t, row.slice(1)) === y[m]) ? t : null;
  }
  return null;
}

/**
 * Pivots for `points`: each next pivot is a literal that the pivots so far cannot explain
 * across the points, the one that varies least (k rather than 4k, so the others are
 * integer multiples of it). Undefined when more would be needed than MAX_PIVOTS.
 */
function choosePivots(points: readonly number[][]): number[] | undefined {
  const pivots: number[] = [];
  const n = points[0]!.length;
  const spread = (i: number) => Math.max(...points.map((p) => p[i]!)) - Math.min(...points.map((p) => p[i]!));
  for (;;) {
    const rows = points.map((p) => [1, ...pivots.map((q) => p[q]!)]);
    const unexplained = Array.from({ length: n }, (_, i) => i).filter((i) => spread(i) > 0 && !pivots.includes(i) && fitTerms(rows, points.map((p) => p[i]!)) === null);
    if (unexplained.length === 0) return pivots;
    if (pivots.length === MAX_PIVOTS || pivots.length + 1 >= points.length) return undefined;
    pivots.push(unexplained.reduce((best, i) => (spread(i) < spread(best) ? i : best)));
  }
}

/** A template fitted to `points` (members' literals), or null when their literals are not integer-affine in up to MAX_PIVOTS pivots. */
function fitTemplate(skeleton: string, points: readonly number[][], helpers: object): Template | null {
  const pivots = choosePivots(points);
  if (pivots === undefined || pivots.length === 0 || points.length !== pivots.length + 1) return null;
  const rows = points.map((p) => [1, ...pivots.map((q) => p[q]!)]);
  const terms: number[][] = [];
  for (let i = 0; i < points[0]!.length; i++) {
    const t = fitTerms(rows, points.map((p) => p[i]!));
    if (t === null) return null;
    terms.push(t);
  }
  const head = skeleton.search(KERNEL_HEAD);
  if (head < 0) return null;
  // The parameters exist inside the kernel function only: literals before it must be fixed.
  const outside = skeleton.slice(0, head).split(MARK).length - 1;
  if (terms.slice(0, outside).some((t) => t.slice(1).some((c) => c !== 0))) return null;
  const names = pivots.map((_, j) => `dim${j}$`);
  let k = 0;
  const body = skeleton
    .replace(/\u0001/g, () => {
      const t = terms[k++]!;
      const parts = [String(t[0]), ...names.flatMap((name, j) => (t[j + 1] === 0 ? [] : [`${t[j + 1]} * ${name}`]))];
      return parts.length === 1 ? parts[0]! : `(${parts.join(' + ')})`;
    })
    .replace(KERNEL_HEAD, (_, name: string, params: string) => `return function ${name}(${[...names, ...(params.trim() === '' ? [] : [params])].join(', ')})`);
  compilations++;
  return { kernel: new Function('M', body)(helpers) as CpuKernel, pivots, terms, points: points.map((p) => p.slice()) };
}

/** The template bound to `literals`' pivot values, when evaluating it there gives back every literal. */
function instantiate(t: Template, literals: readonly number[]): CpuKernel | undefined {
  const x = t.pivots.map((q) => literals[q]!);
  for (let i = 0; i < literals.length; i++) if (literals[i] !== evaluate(t.terms[i]!, x)) return undefined;
  return t.kernel.bind(undefined, ...x);
}

/**
 * A kernel for `literals` from the family: a template that fits it, else a new template
 * fitted to it and earlier members (one pivot with one member, one more with a template's
 * points), else undefined and it joins the members.
 */
function fromFamily(family: Family, skeleton: string, literals: number[], helpers: object): CpuKernel | undefined {
  for (const t of family.templates) {
    const k = instantiate(t, literals);
    if (k !== undefined) return k;
  }
  if (family.templates.length < FAMILY_LIMIT) {
    const candidates = [
      ...family.members.map((m) => [m, literals]),
      ...family.templates.filter((t) => t.pivots.length < MAX_PIVOTS).map((t) => [...t.points, literals]),
    ];
    for (const points of candidates.reverse()) {
      const t = fitTemplate(skeleton, points, helpers);
      if (t === null) continue;
      family.members = family.members.filter((m) => !points.includes(m));
      family.templates.unshift(t);
      return instantiate(t, literals);
    }
  }
  family.members.push(literals);
  if (family.members.length > FAMILY_LIMIT) family.members.shift();
  return undefined;
}

/**
 * Compiles generated kernel source once per distinct text (or binds a family's template,
 * see above). The source is a function body that returns the kernel; `helpers` (math
 * functions, error builders) are its only free variable, bound as `M`. Callers build the
 * text from validated numbers and a fixed vocabulary only: nothing a user typed ever
 * reaches here; a template adds only integers and its parameters `dim0$`, `dim1$`, `dim2$`.
 */
export function compileCpuKernel(source: string, helpers: object): CpuKernel {
  let kernel = cache.get(source);
  if (kernel !== undefined) return kernel;
  const { skeleton, literals } = literalsOf(source);
  let family = families.get(skeleton);
  if (family === undefined) families.set(skeleton, (family = { members: [], templates: [] }));
  kernel = fromFamily(family, skeleton, literals, helpers);
  if (kernel === undefined) {
    compilations++;
    kernel = new Function('M', source)(helpers) as CpuKernel;
  }
  cache.set(source, kernel);
  return kernel;
}

/** How many kernels have been compiled from source, templates included (for tests and logging). */
export function cpuKernelCount(): number {
  return compilations;
}
