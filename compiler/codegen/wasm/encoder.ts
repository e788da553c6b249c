/**
 * A small WebAssembly binary encoder: a module of functions over one imported memory,
 * written instruction by instruction from the fixed vocabulary of opcodes.ts. Every
 * immediate is checked to be an integer in range before it is encoded, so a module is
 * built only from validated numbers and names the vocabulary knows.
 */
import { InternalError } from '../../../runtime/errors.js';
import {
  ATOMIC, ATOMIC_PREFIX, CONST, CONTROL, INDEXED, LOCAL, MEMORY, PLAIN, SIMD, SIMD_CONST, SIMD_LANE, SIMD_MEMORY,
  SIMD_MEMORY_LANE, SIMD_PREFIX, SIMD_SHUFFLE, VALTYPE, type AtomicOp, type IndexedOp, type LocalOp, type MemoryOp,
  type PlainOp, type SimdLaneOp, type SimdMemoryLaneOp, type SimdMemoryOp, type SimdOp, type ValType,
} from './opcodes.js';

function checkInt(n: number, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new InternalError(`wasm encoder: ${what} ${n} is not an integer in [${lo}, ${hi}]`);
  }
  return n;
}

/** Appends `n` as an unsigned LEB128 (n < 2^32). */
export function unsignedLeb(out: number[], n: number): void {
  let v = checkInt(n, 0, 0xffffffff, 'unsigned');
  do {
    const byte = v % 128;
    v = Math.floor(v / 128);
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
}

/** Appends `n` as a signed LEB128 (a 32-bit integer). */
export function signedLeb(out: number[], n: number): void {
  let v = checkInt(n, -0x80000000, 0x7fffffff, 'signed');
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function name(out: number[], text: string): void {
  if (!/^[a-z][a-z0-9_]*$/.test(text)) {
    throw new InternalError(`wasm encoder: name '${text}' is not a lowercase identifier`);
  }
  unsignedLeb(out, text.length);
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
}

/** A vector's length, then its items. */
function vector<T>(out: number[], items: readonly T[], each: (item: T) => void): void {
  unsignedLeb(out, items.length);
  items.forEach(each);
}

/** One function's body under construction: its locals and instructions. */
export class Code {
  readonly bytes: number[] = [];
  private readonly declared: ValType[] = [];
  /** Blocks open now, so that `end` cannot close more than were opened. */
  private depth = 0;

  constructor(readonly params: readonly ValType[]) {}

  /** A new local of `type`; its index. */
  local(type: ValType): number {
    this.declared.push(type);
    return this.params.length + this.declared.length - 1;
  }

  /** A scalar instruction without immediates. */
  op(op: PlainOp): this {
    this.bytes.push(PLAIN[op]);
    return this;
  }

  get(index: number): this {
    return this.localOp('local.get', index);
  }

  set(index: number): this {
    return this.localOp('local.set', index);
  }

  tee(index: number): this {
    return this.localOp('local.tee', index);
  }

  private localOp(op: LocalOp, index: number): this {
    this.bytes.push(LOCAL[op]);
    unsignedLeb(this.bytes, checkInt(index, 0, this.params.length + this.declared.length - 1, 'local'));
    return this;
  }

  i32(value: number): this {
    this.bytes.push(CONST['i32.const']);
    signedLeb(this.bytes, value);
    return this;
  }

  f32(value: number): this {
    this.bytes.push(CONST['f32.const'], ...new Uint8Array(new Float32Array([value]).buffer));
    return this;
  }

  f64(value: number): this {
    this.bytes.push(CONST['f64.const'], ...new Uint8Array(new Float64Array([value]).buffer));
    return this;
  }

  /** A scalar load or store at the address on the stack plus `offset` bytes. */
  mem(op: MemoryOp, offset = 0): this {
    const [code, align] = MEMORY[op];
    this.bytes.push(code);
    return this.memarg(align, offset);
  }

  private memarg(align: number, offset: number): this {
    unsignedLeb(this.bytes, align);
    unsignedLeb(this.bytes, offset);
    return this;
  }

  /** An atomic read-modify-write at the address on the stack plus `offset` bytes, with the operand above it. */
  atomic(op: AtomicOp, offset = 0): this {
    const [code, align] = ATOMIC[op];
    this.bytes.push(ATOMIC_PREFIX);
    unsignedLeb(this.bytes, code);
    return this.memarg(align, offset);
  }

  /** A branch to the block `depth` levels out, or a call of function `index`. */
  indexed(op: IndexedOp, index: number): this {
    this.bytes.push(INDEXED[op]);
    unsignedLeb(this.bytes, op === 'call' ? index : checkInt(index, 0, this.depth - 1, 'label depth'));
    return this;
  }

  /** Opens a block, loop or if that yields no value. */
  open(kind: 'block' | 'loop' | 'if'): this {
    this.bytes.push(CONTROL[kind], 0x40);
    this.depth++;
    return this;
  }

  else(): this {
    if (this.depth === 0) throw new InternalError('wasm encoder: else outside a block');
    this.bytes.push(CONTROL.else);
    return this;
  }

  end(): this {
    if (this.depth === 0) throw new InternalError('wasm encoder: end without an open block');
    this.bytes.push(CONTROL.end);
    this.depth--;
    return this;
  }

  private simdOpcode(code: number): this {
    this.bytes.push(SIMD_PREFIX);
    unsignedLeb(this.bytes, code);
    return this;
  }

  /** A SIMD instruction without immediates. */
  simd(op: SimdOp): this {
    return this.simdOpcode(SIMD[op]);
  }

  /** A SIMD load or store at the address on the stack plus `offset` bytes. */
  simdMem(op: SimdMemoryOp, offset = 0): this {
    const [code, align] = SIMD_MEMORY[op];
    return this.simdOpcode(code).memarg(align, offset);
  }

  /** A lane extract or replace. */
  lane(op: SimdLaneOp, lane: number): this {
    const [code, lanes] = SIMD_LANE[op];
    this.simdOpcode(code);
    this.bytes.push(checkInt(lane, 0, lanes - 1, 'lane'));
    return this;
  }

  /** A load into or store from one lane, at the address on the stack plus `offset` bytes. */
  memLane(op: SimdMemoryLaneOp, offset: number, lane: number): this {
    const [code, align, lanes] = SIMD_MEMORY_LANE[op];
    this.simdOpcode(code).memarg(align, offset);
    this.bytes.push(checkInt(lane, 0, lanes - 1, 'lane'));
    return this;
  }

  /** v128.const of four float32 lanes. */
  f32x4(lanes: readonly [number, number, number, number]): this {
    this.simdOpcode(SIMD_CONST);
    this.bytes.push(...new Uint8Array(new Float32Array(lanes).buffer));
    return this;
  }

  /** v128.const of four 32-bit integer lanes (any bit pattern: signed or unsigned 32-bit values). */
  i32x4(lanes: readonly [number, number, number, number]): this {
    this.simdOpcode(SIMD_CONST);
    for (const l of lanes) {
      const v = checkInt(l, -0x80000000, 0xffffffff, 'i32x4 lane');
      this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    }
    return this;
  }

  /** global.get of global `index` (a v128 constant of the module: ModuleBuilder.constant). */
  global(index: number): this {
    this.bytes.push(0x23);
    unsignedLeb(this.bytes, index);
    return this;
  }

  /** i8x16.shuffle: byte i of the result is byte `lanes[i]` of the two operands side by side. */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new InternalError(`wasm encoder: shuffle takes 16 lanes, got ${lanes.length}`);
    this.simdOpcode(SIMD_SHUFFLE);
    for (const l of lanes) this.bytes.push(checkInt(l, 0, 31, 'shuffle lane'));
    return this;
  }

  /** The encoded body: locals grouped by runs of one type, the instructions, the final end. */
  encode(): number[] {
    if (this.depth !== 0) throw new InternalError(`wasm encoder: ${this.depth} blocks left open`);
    const runs: [number, ValType][] = [];
    for (const t of this.declared) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const body: number[] = [];
    vector(body, runs, ([count, t]) => {
      unsignedLeb(body, count);
      body.push(VALTYPE[t]);
    });
    body.push(...this.bytes, CONTROL.end);
    const out: number[] = [];
    unsignedLeb(out, body.length);
    return out.concat(body);
  }
}

/** The memory a module imports as env.memory: its limits in 64 KiB pages, and whether it is shared. */
export interface MemoryImport {
  initial: number;
  maximum?: number;
  shared: boolean;
}

interface Func {
  type: number;
  code: Code;
  exportName: string | undefined;
}

const SECTION = { type: 1, import: 2, function: 3, global: 6, export: 7, code: 10 } as const;

/** A module under construction: function types, the memory import, functions and exports. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly funcs: Func[] = [];
  /** The four 32-bit lanes of each v128 global, by index, and the index of each (lanes joined). */
  private readonly constants: (readonly [number, number, number, number])[] = [];
  private readonly constantIndex = new Map<string, number>();

  constructor(private readonly memory: MemoryImport) {
    if (memory.shared && memory.maximum === undefined) {
      throw new InternalError('wasm encoder: a shared memory needs a maximum');
    }
  }

  /** Declares a function (exported as `exportName` when given) and returns its index; `build` writes its body. */
  func(
    exportName: string | undefined, params: readonly ValType[], results: readonly ValType[], build: (c: Code) => void,
  ): number {
    const signature = [params.map((p) => VALTYPE[p]).join(','), results.map((r) => VALTYPE[r]).join(',')].join('>');
    let type = this.types.indexOf(signature);
    if (type < 0) type = this.types.push(signature) - 1;
    const code = new Code(params);
    const index = this.funcs.push({ type, code, exportName }) - 1;
    build(code);
    return index;
  }

  /**
   * The index of a mutable v128 global holding the four 32-bit lanes `lanes` (one per distinct
   * value). V8 materialises a v128.const at every use, inside loops too, with three instructions;
   * a global is one load.
   */
  constant(lanes: readonly [number, number, number, number]): number {
    const key = lanes.map((l) => checkInt(l, -0x80000000, 0xffffffff, 'i32x4 lane') >>> 0).join(',');
    let index = this.constantIndex.get(key);
    if (index === undefined) this.constantIndex.set(key, (index = this.constants.push(lanes) - 1));
    return index;
  }

  /** The module's bytes. */
  encode(): Uint8Array {
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, fill: (s: number[]) => void) => {
      const s: number[] = [];
      fill(s);
      out.push(id);
      unsignedLeb(out, s.length);
      out.push(...s);
    };
    section(SECTION.type, (s) => vector(s, this.types, (sig) => {
      const [params, results] = sig.split('>').map((list) => (list === '' ? [] : list.split(',').map(Number)));
      s.push(0x60);
      vector(s, params!, (p) => s.push(p));
      vector(s, results!, (r) => s.push(r));
    }));
    section(SECTION.import, (s) => vector(s, [this.memory], (m) => {
      name(s, 'env');
      name(s, 'memory');
      s.push(0x02, m.shared ? 0x03 : m.maximum === undefined ? 0x00 : 0x01);
      unsignedLeb(s, checkInt(m.initial, 0, 65536, 'memory pages'));
      if (m.maximum !== undefined) unsignedLeb(s, checkInt(m.maximum, m.initial, 65536, 'memory maximum'));
    }));
    section(SECTION.function, (s) => vector(s, this.funcs, (f) => unsignedLeb(s, f.type)));
    if (this.constants.length > 0) {
      section(SECTION.global, (s) => vector(s, this.constants, (lanes) => {
        s.push(VALTYPE.v128, 0x01, ...new Code([]).i32x4(lanes).bytes, CONTROL.end);
      }));
    }
    const exported = this.funcs.flatMap((f, i) => (f.exportName === undefined ? [] : [[f.exportName, i] as const]));
    section(SECTION.export, (s) => vector(s, exported, ([n, i]) => {
      name(s, n);
      s.push(0x00);
      unsignedLeb(s, i);
    }));
    section(SECTION.code, (s) => vector(s, this.funcs, (f) => s.push(...f.code.encode())));
    return new Uint8Array(out);
  }
}
