/**
 * Source map mappings (version 3, base64 VLQ): decoding, encoding, looking a position up
 * and composing two maps. The transforms need this to report guard sites on the user's
 * original lines when they run after another transform (TypeScript stripping), and the
 * Node hook to hand Node one map from its output straight to the original file.
 */

/** A decoded segment: [column] or [column, source, line, column] or that plus a name index (all 0-based). */
export type Segment = [number] | [number, number, number, number] | [number, number, number, number, number];

/** The fields of a source map the transforms read and write. */
export interface RawSourceMap {
  version: number;
  file?: string;
  sourceRoot?: string;
  sources: string[];
  sourcesContent?: (string | null)[];
  names: string[];
  mappings: string;
}

const CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARS.length; i++) VALUE[CHARS.charCodeAt(i)] = i;

/** Decodes a `mappings` string into segments per generated line. */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let line: Segment[] = [];
  // Every field but the generated column is relative to the previous segment in the file.
  const state = [0, 0, 0, 0, 0];
  let fields: number[] = [];
  let value = 0, shift = 0;
  const endSegment = () => {
    if (fields.length === 0) return;
    state[0]! += fields[0]!;
    const seg: number[] = [state[0]!];
    for (let k = 1; k < fields.length && k < 5; k++) {
      state[k]! += fields[k]!;
      seg.push(state[k]!);
    }
    line.push(seg as Segment);
    fields = [];
  };
  for (let i = 0; i < mappings.length; i++) {
    const c = mappings.charCodeAt(i);
    if (c === 44 /* , */) { endSegment(); continue; }
    if (c === 59 /* ; */) {
      endSegment();
      lines.push(line);
      line = [];
      state[0] = 0;
      continue;
    }
    const digit = c < 128 ? VALUE[c]! : -1;
    if (digit < 0) throw new Error(`source map: invalid character ${JSON.stringify(mappings[i])} in mappings at ${i}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  endSegment();
  lines.push(line);
  return lines;
}

function encodeValue(n: number): string {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += CHARS[digit];
  } while (v > 0);
  return out;
}

/** Encodes segments per generated line into a `mappings` string. */
export function encodeMappings(lines: readonly (readonly Segment[])[]): string {
  const state = [0, 0, 0, 0, 0];
  const out: string[] = [];
  for (const line of lines) {
    state[0] = 0;
    const segs: string[] = [];
    for (const seg of line) {
      let s = '';
      for (let k = 0; k < seg.length; k++) {
        s += encodeValue(seg[k]! - state[k]!);
        state[k] = seg[k]!;
      }
      segs.push(s);
    }
    out.push(segs.join(','));
  }
  return out.join(';');
}

/** An original position: source index, 0-based line and column, and the name index if any. */
export interface Original {
  source: number;
  line: number;
  column: number;
  name?: number;
}

/**
 * The original position of generated (line, column), both 0-based: the last segment of that
 * line starting at or before the column, as source-map consumers look positions up.
 */
export function originalPosition(lines: readonly (readonly Segment[])[], line: number, column: number): Original | undefined {
  const segs = lines[line];
  if (!segs || segs.length === 0) return undefined;
  let lo = 0, hi = segs.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid]![0] <= column) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found < 0) return undefined;
  const s = segs[found]!;
  if (s.length < 4) return undefined;
  return s.length === 5 ? { source: s[1]!, line: s[2]!, column: s[3]!, name: s[4] } : { source: s[1]!, line: s[2]!, column: s[3]! };
}

/** A map given as an object or as JSON text. */
export function readMap(map: RawSourceMap | string): RawSourceMap {
  return typeof map === 'string' ? (JSON.parse(map) as RawSourceMap) : map;
}

/**
 * One map from `outer`'s generated code to `inner`'s sources, where `outer` maps its code to
 * the code that `inner` generated (apply `inner`'s transform first, then `outer`'s).
 */
export function composeMaps(outer: RawSourceMap, inner: RawSourceMap): RawSourceMap {
  const innerLines = decodeMappings(inner.mappings);
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const nameOf = (n: string) => {
    let i = nameIndex.get(n);
    if (i === undefined) {
      i = names.length;
      names.push(n);
      nameIndex.set(n, i);
    }
    return i;
  };
  const lines = decodeMappings(outer.mappings).map((segs) => {
    const out: Segment[] = [];
    for (const seg of segs) {
      if (seg.length < 4) continue;
      const o = originalPosition(innerLines, seg[2]!, seg[3]!);
      if (o === undefined) continue;
      const name = o.name !== undefined ? inner.names[o.name] : seg.length === 5 ? outer.names[seg[4]!] : undefined;
      out.push(name !== undefined ? [seg[0], o.source, o.line, o.column, nameOf(name)] : [seg[0], o.source, o.line, o.column]);
    }
    return out;
  });
  const map: RawSourceMap = { version: 3, sources: inner.sources.slice(), names, mappings: encodeMappings(lines) };
  if (inner.sourceRoot !== undefined) map.sourceRoot = inner.sourceRoot;
  if (inner.sourcesContent) map.sourcesContent = inner.sourcesContent.slice();
  if (outer.file !== undefined) map.file = outer.file;
  return map;
}

const INLINE = /\/\/[#@] sourceMappingURL=data:application\/json(?:;charset=[\w-]+)?;base64,([A-Za-z0-9+/=]+)\s*$/;

/** The inline (base64 data URL) source map at the end of `code`, and `code` without it. */
export function splitInlineMap(code: string): { code: string; map: RawSourceMap | undefined } {
  const m = INLINE.exec(code);
  if (!m) return { code, map: undefined };
  try {
    const json = new TextDecoder().decode(Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)));
    return { code: code.slice(0, m.index), map: JSON.parse(json) as RawSourceMap };
  } catch {
    return { code, map: undefined };
  }
}

/** `map` as a comment that ends a file: a base64 data URL. */
export function inlineMapComment(map: RawSourceMap): string {
  const bytes = new TextEncoder().encode(JSON.stringify(map));
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${btoa(binary)}`;
}
