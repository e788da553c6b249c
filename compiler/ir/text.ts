/**
 * The graph IR as text that reads back exactly. `printGraph` (graph.ts) is for people: it
 * shortens long arrays, prints -0 as 0 and typed arrays as plain lists. `printGraphExact`
 * uses the same line format but loses nothing, and `parseGraph` reads either one, so pass
 * tests can be written as text and recorded graphs survive a round trip.
 *
 * A line is `%3 = add(%1, %2) {key=value, …} : float32[4,3]`; write/observe/setGrad define
 * no value, so they have no `%i =` and their ` : dtype[shape]` is left out when it is the
 * usual one (no dims, the dtype of their first operand). Values are numbers (NaN,
 * ±Infinity and -0 included), JSON strings, true/false/null/undefined, `[…]` lists,
 * `{key: value}` objects and typed arrays written as `Float32Array[…]`.
 */
import { isDType, type DType } from '../../runtime/dtype.js';
import { KilnError, fmtShape } from '../../runtime/errors.js';
import { makeNode, type Graph, type Node } from './graph.js';
import { definesValue, isKnownOp } from './kinds.js';

/** A text that is not a graph: names the 1-based line and column and what was expected there. */
export class GraphSyntaxError extends KilnError {
  override name = 'GraphSyntaxError';
  constructor(readonly line: number, readonly column: number, problem: string) {
    super(`parseGraph: line ${line}, column ${column}: ${problem}`);
  }
}

type NumberArray =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint8ClampedArray | Uint16Array | Uint32Array;

/** The typed arrays a parameter may hold, by the name the text uses for them. */
const TYPED_ARRAYS: Record<string, new (values: number[]) => NumberArray> = {
  Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Uint8Array, Uint8ClampedArray, Uint16Array, Uint32Array,
};

const IDENT = /[A-Za-z_$][\w$]*/y;
const NUMBER = /-?(?:Infinity|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|NaN/y;
const INTEGER = /\d+/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** A number as text that `Number()` turns back into the same float64 (String() would print -0 as 0). */
function formatNumber(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

function formatKey(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
}

/** A parameter value as exact text. */
function formatValue(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(',')}]`;
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor.name;
    if (!(name in TYPED_ARRAYS)) throw new KilnError(`printGraphExact: cannot print a ${name} parameter`);
    return `${name}[${Array.from(v as NumberArray, formatNumber).join(',')}]`;
  }
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${formatKey(k)}: ${formatValue(x)}`).join(', ')}}`;
  throw new KilnError(`printGraphExact: cannot print a ${typeof v} parameter`);
}

/** A node's parameters as exact text: ` {k=v, …}`, or nothing when there are none (undefined entries are left out, as printGraph does). */
export function formatParamsExact(params: object): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '';
  return ' {' + entries.map(([k, v]) => `${formatKey(k)}=${formatValue(v)}`).join(', ') + '}';
}

const LOOP_HEAD = /^(%\d+ = loop\([^)]*\)) \{carried=(\d+), site=("(?:[^"\\]|\\.)*")\}( : .*)$/;
const COND_HEAD = /^ {2}cond \(continues while %(\d+) holds, else ends with ([^;)]*)(?:; body also reads ([^)]*))?\):$/;
const BODY_HEAD = /^ {2}body \(next carried values ([^)]*)\):$/;

/** "%1, %4" as [1, 4]. */
function refList(text: string | undefined): number[] {
  return (text ?? '').split(',').map((x) => x.trim()).filter(Boolean).map((x) => Number(x.slice(1)));
}

/**
 * printGraph writes a loop node as a head line with its condition and body graphs indented
 * under it: each such block becomes the exact one-line form, and its other lines blanks (so
 * line numbers in errors stay those of the text).
 */
function foldPrintedLoops(lines: string[]): string[] {
  const out = lines.slice();
  for (let k = 0; k < out.length; k++) {
    const head = LOOP_HEAD.exec(out[k]!.trimEnd());
    const cond = head && COND_HEAD.exec(out[k + 1]?.trimEnd() ?? '');
    if (!head || !cond) continue;
    const nested = (from: number): { graph: Graph; end: number } => {
      let end = from;
      while (end < out.length && out[end]!.startsWith('    ')) end++;
      try {
        return { graph: parseGraph(out.slice(from, end).map((l) => l.slice(4)).join('\n')), end };
      } catch (e) {
        if (!(e instanceof GraphSyntaxError)) throw e;
        const problem = e.message.replace(/^parseGraph: line \d+, column \d+: /, '');
        throw new GraphSyntaxError(from + e.line, e.column + 4, problem);
      }
    };
    const c = nested(k + 2);
    const bodyHead = BODY_HEAD.exec(out[c.end]?.trimEnd() ?? '');
    if (!bodyHead) {
      throw new GraphSyntaxError(c.end + 1, 1, 'expected "  body (next carried values …):" after the loop\'s condition');
    }
    const b = nested(c.end + 1);
    const params = {
      carried: Number(head[2]), cond: c.graph, condValue: Number(cond[1]), condExports: refList(cond[3]),
      exits: refList(cond[2]), body: b.graph, results: refList(bodyHead[1]), site: JSON.parse(head[3]!) as string,
    };
    out[k] = `${head[1]}${formatParamsExact(params)}${head[4]}`;
    for (let j = k + 1; j < b.end; j++) out[j] = '';
    k = b.end - 1;
  }
  return out;
}

/** The graph as text that `parseGraph` turns back into an equal graph; printGraph's format, without its shortenings. */
export function printGraphExact(g: Graph): string {
  return g.nodes.map((n, i) => {
    const args = `(${n.inputs.map((x) => `%${x}`).join(', ')})`;
    const meta = ` : ${n.dtype}${fmtShape(n.shape)}`;
    if (definesValue(n.op)) return `%${i} = ${n.op}${args}${formatParamsExact(n.params)}${meta}`;
    // An effect's metadata is printed only when the parser could not infer it.
    const first = n.inputs.length > 0 && n.inputs[0]! < i ? g.nodes[n.inputs[0]!] : undefined;
    const usual = n.shape.length === 0 && first !== undefined && first.dtype === n.dtype;
    return `${n.op}${args}${formatParamsExact(n.params)}${usual ? '' : meta}`;
  }).join('\n');
}

/** Reads one line; every method throws a GraphSyntaxError naming where it stopped. */
class LineReader {
  pos = 0;
  constructor(readonly text: string, readonly line: number, readonly indent: number) {}

  fail(problem: string, at = this.pos): never {
    throw new GraphSyntaxError(this.line, this.indent + at + 1, problem);
  }

  /** What is left of the line, shortened, for error messages. */
  rest(): string {
    const r = this.text.slice(this.pos);
    return r === '' ? 'end of line' : JSON.stringify(r.length > 16 ? r.slice(0, 16) + '…' : r);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && (this.text[this.pos] === ' ' || this.text[this.pos] === '\t')) this.pos++;
  }

  /** The position of the next token. */
  mark(): number {
    this.skipSpace();
    return this.pos;
  }

  peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  eat(s: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }

  expect(s: string, what: string): void {
    if (!this.eat(s)) this.fail(`expected ${what} (got ${this.rest()})`);
  }

  match(re: RegExp): string | undefined {
    this.skipSpace();
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m === null) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  ident(what: string): string {
    return this.match(IDENT) ?? this.fail(`expected ${what} (got ${this.rest()})`);
  }

  integer(what: string): number {
    const s = this.match(INTEGER) ?? this.fail(`expected ${what} (got ${this.rest()})`);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) this.fail(`${what} ${s} is too large`, this.pos - s.length);
    return n;
  }

  /** `%<integer>`. */
  ref(what: string): number {
    this.expect('%', `${what} (%<index>)`);
    return this.integer(`a node index after %`);
  }

  key(): string {
    const s = this.match(STRING);
    return s !== undefined ? (JSON.parse(s) as string) : this.ident('a parameter name');
  }

  value(): unknown {
    const c = this.peek();
    if (c === '[') return this.list();
    if (c === '{') return this.object();
    if (c === '"') return JSON.parse(this.match(STRING) ?? this.fail(`malformed string (got ${this.rest()})`)) as string;
    if (c === '…') this.fail('printGraph shortened this value; print the graph with printGraphExact to keep all of it');
    const n = this.match(NUMBER);
    if (n !== undefined) {
      // A number directly followed by more word characters is not a number (e.g. `1abc`).
      if (/[\w$.]/.test(this.text[this.pos] ?? '')) this.fail(`malformed number (got ${JSON.stringify(n + this.text.slice(this.pos, this.pos + 8))})`, this.pos - n.length);
      return Number(n);
    }
    const start = this.mark();
    const word = this.match(IDENT);
    switch (word) {
      case 'true': return true;
      case 'false': return false;
      case 'null': return null;
      case 'undefined': return undefined;
      case undefined: return this.fail(`expected a value (got ${this.rest()})`);
    }
    const ctor = TYPED_ARRAYS[word];
    if (ctor === undefined || this.peek() !== '[') this.fail(`unknown value ${JSON.stringify(word)} (a typed array is written Float32Array[1,2])`, start);
    const items = this.list();
    items.forEach((x) => { if (typeof x !== 'number') this.fail(`${word} holds numbers only (got ${formatValue(x)})`, start); });
    return new ctor(items as number[]);
  }

  list(): unknown[] {
    this.expect('[', '"["');
    return this.items(']', () => this.value(), '"," or "]" in a list');
  }

  /** Comma-separated `item`s up to `close` (the opening token already read); `expected` names what may follow one. */
  items<T>(close: string, item: () => T, expected: string): T[] {
    const out: T[] = [];
    if (this.eat(close)) return out;
    for (;;) {
      out.push(item());
      if (this.eat(close)) return out;
      this.expect(',', expected);
    }
  }

  object(): Record<string, unknown> {
    this.expect('{', '"{"');
    const out: Record<string, unknown> = {};
    if (this.eat('}')) return out;
    for (;;) {
      const at = this.mark();
      const k = this.key();
      if (Object.prototype.hasOwnProperty.call(out, k)) this.fail(`key ${JSON.stringify(k)} appears twice`, at);
      this.expect(':', `":" after ${JSON.stringify(k)}`);
      out[k] = this.value();
      if (this.eat('}')) return out;
      this.expect(',', '"," or "}" in an object');
    }
  }

  /** `{k=v, …}` after the operands. */
  params(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (!this.eat('{')) return out;
    if (this.eat('}')) return out;
    for (;;) {
      const at = this.mark();
      const k = this.key();
      if (Object.prototype.hasOwnProperty.call(out, k)) this.fail(`parameter ${JSON.stringify(k)} appears twice`, at);
      this.expect('=', `"=" after the parameter name ${JSON.stringify(k)}`);
      const v = this.value();
      // printGraph leaves out undefined parameters; keeping the key would not read back equal.
      if (v !== undefined) out[k] = v;
      if (this.eat('}')) return out;
      this.expect(',', '"," or "}" between parameters');
    }
  }

  /** `dtype[d0,d1,…]`. */
  meta(): { dtype: DType; shape: number[] } {
    const at = this.mark();
    const dtype = this.ident('a dtype');
    if (!isDType(dtype)) this.fail(`unknown dtype ${JSON.stringify(dtype)} (valid: float16, float32, float64, int32, uint8, bool)`, at);
    this.expect('[', `"[" and the shape after ${dtype}`);
    const dim = () => this.integer('a dimension (a non-negative integer)');
    const shape = this.items(']', dim, '"," or "]" in the shape');
    return { dtype, shape };
  }
}

/**
 * The graph a text describes: the output of `printGraph` (when nothing was shortened) or of
 * `printGraphExact`. Blank lines and lines starting with `//` are skipped, leading spaces
 * ignored, and `%i` must number the nodes in order.
 */
export function parseGraph(text: string): Graph {
  const nodes: Node[] = [];
  foldPrintedLoops(text.split('\n')).forEach((raw, k) => {
    const trimmed = raw.replace(/\r$/, '').trimEnd();
    const body = trimmed.trimStart();
    if (body === '' || body.startsWith('//')) return;
    const r: LineReader = new LineReader(body, k + 1, trimmed.length - body.length);
    const i = nodes.length;
    let named: number | undefined;
    if (r.peek() === '%') {
      named = r.ref('the node index');
      r.expect('=', '"=" after the node index');
    }
    const opAt = r.mark();
    const op = r.ident('an op name');
    if (!isKnownOp(op)) r.fail(`unknown op ${JSON.stringify(op)}`, opAt);
    const value = definesValue(op);
    if (value && named === undefined) r.fail(`${op} defines a value: write "%${i} = ${op}(…)"`, 0);
    if (!value && named !== undefined) r.fail(`${op} defines no value, so it takes no "%${named} =" (it still counts as node ${i})`, 0);
    if (named !== undefined && named !== i) {
      r.fail(`this is node ${i}, numbered %${named} (every line, effects included, is the next node)`, 0);
    }
    r.expect('(', `"(" after ${op}`);
    const inputs = r.items(')', () => r.ref('an operand'), '"," or ")" between operands');
    const params = r.params();
    let meta: { dtype: DType; shape: number[] };
    if (r.eat(':')) meta = r.meta();
    else if (value) r.fail(`expected " : dtype[shape]" after ${op}'s operands and parameters (got ${r.rest()})`);
    else {
      const first = inputs[0] !== undefined && inputs[0] < i ? nodes[inputs[0]] : undefined;
      if (first === undefined) r.fail(`${op} without operands needs " : dtype[shape]"`);
      meta = { dtype: first.dtype, shape: [] };
    }
    r.skipSpace();
    if (r.pos < body.length) r.fail(`unexpected text after the node (got ${r.rest()})`);
    nodes.push(makeNode(op, inputs, params, meta.shape, meta.dtype));
  });
  return { nodes };
}
