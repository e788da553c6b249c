/** A compiled CPU kernel: buffers first, then their element offsets, then scalar arguments. */
export type CpuKernel = (...args: any[]) => void;

const cache = new Map<string, CpuKernel>();
let compilations = 0;

/**
 * Size-generic kernels. Generated kernels bake sizes, strides and loop bounds in as integer
 * literals, so the same computation on a batch of another size is another text. Texts that
 * differ only in integer literals form a family; when a member arrives whose changed
 * literals are each an integer-affine function of the first one that changed (the pivot:
 * a size, say) relative to an earlier member, the family gets a template whose kernel takes
 * the pivot as an extra first parameter, and every later member it fits is the template
 * bound to its pivot value — no new compilation, and V8's optimized code for the template
 * is shared. (Sizes that vary along different dims make different templates.) A text is only
 * bound to the template when substituting its pivot value gives back exactly its literals,
 * so a bound kernel runs the same program as its own text would.
 */
interface Template {
  kernel: CpuKernel;
  /** The literals of the member the template was fitted from. */
  first: number[];
  pivot: number;
  /** Per literal position: [slope, intercept] in the pivot, or undefined for a fixed literal. */
  affine: ([number, number] | undefined)[];
}

interface Family {
  /** Literals of members compiled on their own (no template fitted them yet), newest last. */
  members: number[][];
  templates: Template[];
}

/** Members and templates kept per family: a few sizes varying along different dims. */
const FAMILY_LIMIT = 8;

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

/** The template fitted to two members' literals, or null when some literal is not integer-affine in the pivot. */
function fitTemplate(skeleton: string, a: readonly number[], b: readonly number[], helpers: object): Template | null {
  const pivot = a.findIndex((x, i) => x !== b[i]);
  const head = skeleton.search(KERNEL_HEAD);
  if (pivot < 0 || head < 0) return null;
  // The parameter exists inside the kernel function only: literals before it must not vary.
  const outside = skeleton.slice(0, head).split(MARK).length - 1;
  if (a.slice(0, outside).some((x, i) => x !== b[i])) return null;
  const d0 = a[pivot]!, d1 = b[pivot]!;
  const affine = a.map((x, i): [number, number] | undefined => {
    if (x === b[i]) return undefined;
    const slope = (b[i]! - x) / (d1 - d0);
    const intercept = x - slope * d0;
    return [slope, intercept];
  });
  if (affine.some((f) => f !== undefined && !(Number.isSafeInteger(f[0]) && Number.isSafeInteger(f[1])))) return null;
  let k = 0;
  const body = skeleton
    .replace(/\u0001/g, () => {
      const f = affine[k];
      const x = a[k++]!;
      return f === undefined ? String(x) : `(${f[0]} * dim$ + ${f[1]})`;
    })
    .replace(KERNEL_HEAD, (_, name: string, params: string) => `return function ${name}(dim$${params.trim() === '' ? '' : `, ${params}`})`);
  compilations++;
  return { kernel: new Function('M', body)(helpers) as CpuKernel, first: a.slice(), pivot, affine };
}

/** The template bound to `literals`' pivot value, when that reproduces every literal. */
function instantiate(t: Template, literals: readonly number[]): CpuKernel | undefined {
  const d = literals[t.pivot]!;
  for (let i = 0; i < literals.length; i++) {
    const f = t.affine[i];
    if (literals[i] !== (f === undefined ? t.first[i] : f[0] * d + f[1])) return undefined;
  }
  return t.kernel.bind(undefined, d);
}

/** A kernel for `literals` from the family's templates, fitting a new one with an earlier member if none fits. */
function fromFamily(family: Family, skeleton: string, literals: number[], helpers: object): CpuKernel | undefined {
  for (const t of family.templates) {
    const k = instantiate(t, literals);
    if (k !== undefined) return k;
  }
  if (family.templates.length < FAMILY_LIMIT) {
    for (let m = family.members.length - 1; m >= 0; m--) {
      const t = fitTemplate(skeleton, family.members[m]!, literals, helpers);
      if (t === null) continue;
      family.members.splice(m, 1);
      family.templates.push(t);
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
 * reaches here; a template adds only integers and the parameter `dim$`.
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
