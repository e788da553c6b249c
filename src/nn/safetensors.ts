/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * naming each tensor's dtype, shape and byte range, then the tensors' little-endian bytes,
 * row-major, back to back. Files are checked entry by entry before any tensor is built, so
 * a malformed file is an error, never a read outside its buffer. Reading and writing files
 * (Node only) is in safetensors-files.ts.
 */
import { ARRAY_OF, type DType } from '../../runtime/dtype.js';
import { ValueError, fmtShape } from '../../runtime/errors.js';
import { empty } from '../dispatch.js';
import { writeStorage } from '../storage.js';
import { Tensor } from '../tensor.js';

/** The largest header accepted, as in the reference implementation: real headers are a few MB. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** How one file dtype is read: its width, the kiln dtype it becomes, and one element's decoding. */
interface Codec {
  bytes: number;
  dtype: DType;
  /** True when the bytes are exactly kiln's storage on a little-endian machine. */
  native: boolean;
  read(view: DataView, at: number): number | bigint;
}

const f32Bits = new Uint32Array(1);
const f32Value = new Float32Array(f32Bits.buffer);

function bfloatToFloat(h: number): number {
  f32Bits[0] = h << 16;
  return f32Value[0]!;
}

const CODECS: Record<string, Codec> = {
  F64: { bytes: 8, dtype: 'float64', native: true, read: (v, i) => v.getFloat64(i, true) },
  F32: { bytes: 4, dtype: 'float32', native: true, read: (v, i) => v.getFloat32(i, true) },
  F16: { bytes: 2, dtype: 'float16', native: true, read: (v, i) => v.getUint16(i, true) },
  BF16: { bytes: 2, dtype: 'float32', native: false, read: (v, i) => bfloatToFloat(v.getUint16(i, true)) },
  I64: { bytes: 8, dtype: 'int32', native: false, read: (v, i) => v.getBigInt64(i, true) },
  U64: { bytes: 8, dtype: 'int32', native: false, read: (v, i) => v.getBigUint64(i, true) },
  I32: { bytes: 4, dtype: 'int32', native: true, read: (v, i) => v.getInt32(i, true) },
  U32: { bytes: 4, dtype: 'int32', native: false, read: (v, i) => v.getUint32(i, true) },
  I16: { bytes: 2, dtype: 'int32', native: false, read: (v, i) => v.getInt16(i, true) },
  U16: { bytes: 2, dtype: 'int32', native: false, read: (v, i) => v.getUint16(i, true) },
  I8: { bytes: 1, dtype: 'int32', native: false, read: (v, i) => v.getInt8(i) },
  U8: { bytes: 1, dtype: 'uint8', native: true, read: (v, i) => v.getUint8(i) },
  BOOL: { bytes: 1, dtype: 'bool', native: false, read: (v, i) => (v.getUint8(i) !== 0 ? 1 : 0) },
};

const FILE_DTYPE: Record<DType, string> = { float16: 'F16', float32: 'F32', float64: 'F64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };

function checkMetadata(op: string, metadata: unknown): Record<string, string> {
  if (metadata === undefined || metadata === null) return {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new ValueError(`${op}: ${METADATA_KEY} must be an object of strings (got ${Array.isArray(metadata) ? 'an array' : typeof metadata})`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new ValueError(`${op}: ${METADATA_KEY} values must be strings (got ${typeof v} for key ${JSON.stringify(k)})`);
  }
  return { ...(metadata as Record<string, string>) };
}

/** The bytes of a safetensors file holding `tensors` in their key order, and optional string metadata. */
export function serializeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const op = 'serializeSafetensors';
  const meta = checkMetadata(op, metadata);
  const entries = Object.entries(tensors);
  const datas: Uint8Array[] = [];
  // The header is assembled by hand so its text lists the tensors in the order their bytes follow.
  const fields: string[] = [];
  if (metadata !== undefined) fields.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(meta)}`);
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === METADATA_KEY) throw new ValueError(`${op}: ${METADATA_KEY} is reserved for metadata and cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${JSON.stringify(name)} is not a tensor (got ${t === null ? 'null' : typeof t})`);
    const bytes = encode(t);
    datas.push(bytes);
    fields.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: FILE_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] })}`);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  // Spaces pad the header so the data starts 8-byte aligned.
  const headerLength = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const bytes of datas) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** A tensor's elements as little-endian bytes, row-major. */
function encode(t: Tensor): Uint8Array {
  const data = t.data();
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || t.dtype === 'bool') return raw;
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (t.dtype === 'float64') view.setFloat64(8 * i, data[i]!, true);
    else if (t.dtype === 'float32') view.setFloat32(4 * i, data[i]!, true);
    else view.setInt32(4 * i, data[i]!, true);
  }
  return out;
}

interface Entry {
  name: string;
  codec: Codec;
  fileDtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function checkEntry(op: string, name: string, info: unknown): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new ValueError(`${op}: ${where} must be described by an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(CODECS, dtype)) {
    throw new ValueError(`${op}: ${where} has unknown or unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(CODECS).join(', ')})`);
  }
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) throw new ValueError(`${op}: ${where} has an invalid shape ${JSON.stringify(shape)} (need an array of non-negative integers)`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw new ValueError(`${op}: ${where} has invalid data_offsets ${JSON.stringify(offsets)} (need [begin, end] with 0 ≤ begin ≤ end)`);
  }
  const codec = CODECS[dtype]!;
  let size = 1;
  for (const d of shape as number[]) size *= d;
  const [begin, end] = offsets as [number, number];
  if (!Number.isSafeInteger(size * codec.bytes) || size * codec.bytes !== end - begin) {
    throw new ValueError(`${op}: ${where} of shape ${fmtShape(shape as number[])} and dtype ${dtype} needs ${size * codec.bytes} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { name, codec, fileDtype: dtype, shape: (shape as number[]).slice(), begin, end };
}

/** Decodes one checked entry from the data section (`data` starts right after the header). */
function decode(op: string, entry: Entry, data: Uint8Array): Tensor {
  const { codec, shape } = entry;
  const out = empty(shape, codec.dtype);
  const target = new ARRAY_OF[codec.dtype](out.size);
  const bytes = data.subarray(entry.begin, entry.end);
  if (codec.native && LITTLE_ENDIAN) {
    // A byte copy also realigns: the entry may start at any offset in the file.
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
    writeStorage(out.storage, codec.dtype, target);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < target.length; i++) {
    const v = codec.read(view, i * codec.bytes);
    if (typeof v === 'bigint' || (codec.dtype === 'int32' && (v | 0) !== v)) {
      const n = typeof v === 'bigint' ? v : BigInt(v);
      if (n < -2147483648n || n > 2147483647n) {
        throw new ValueError(`${op}: tensor ${JSON.stringify(entry.name)} (${entry.fileDtype}) holds ${n} at element ${i}, outside the int32 range kiln stores integers in`);
      }
      target[i] = Number(n);
    } else {
      target[i] = v;
    }
  }
  writeStorage(out.storage, codec.dtype, target);
  return out;
}

/**
 * Parses safetensors bytes into tensors (in header order) and the string metadata. F16 stays float16;
 * BF16 becomes float32; I64, U64, U32, I16, U16, I8 and U8 become int32 (an error when a
 * value does not fit).
 */
export function deserializeSafetensors(bytes: Uint8Array): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const op = 'deserializeSafetensors';
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`${op}: expects a Uint8Array (got ${typeof bytes})`);
  if (bytes.length < 8) throw new ValueError(`${op}: the file has ${bytes.length} bytes, fewer than the 8 of the header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new ValueError(`${op}: the header length ${n} is too large (at most ${MAX_HEADER_BYTES} bytes)`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) throw new ValueError(`${op}: the header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new ValueError(`${op}: the header is not valid UTF-8`);
  }
  if (!text.startsWith('{')) throw new ValueError(`${op}: the header must be a JSON object starting with '{'`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new ValueError(`${op}: the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new ValueError(`${op}: the header must be a JSON object`);
  const data = bytes.subarray(8 + headerLength);
  const metadata = checkMetadata(op, (header as Record<string, unknown>)[METADATA_KEY]);
  const entries = Object.entries(header).filter(([name]) => name !== METADATA_KEY).map(([name, info]) => checkEntry(op, name, info));
  // The ranges must tile the data section exactly: no overlap, no gap, nothing past the end.
  const byOffset = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of byOffset) {
    if (e.begin < covered) throw new ValueError(`${op}: tensor ${JSON.stringify(e.name)} at bytes [${e.begin}, ${e.end}] overlaps the tensor before it (which ends at ${covered})`);
    if (e.begin > covered) throw new ValueError(`${op}: bytes [${covered}, ${e.begin}] of the data belong to no tensor (the data must hold the tensors back to back)`);
    if (e.end > data.length) throw new ValueError(`${op}: tensor ${JSON.stringify(e.name)} at bytes [${e.begin}, ${e.end}] runs past the end of the ${data.length}-byte data section`);
    covered = e.end;
  }
  if (covered !== data.length) throw new ValueError(`${op}: the data section has ${data.length} bytes but the tensors cover ${covered}`);
  const tensors: Record<string, Tensor> = {};
  // Defined, not assigned: a tensor named "__proto__" must stay an ordinary key.
  for (const e of entries) Object.defineProperty(tensors, e.name, { value: decode(op, e, data), enumerable: true, writable: true, configurable: true });
  return { tensors, metadata };
}
