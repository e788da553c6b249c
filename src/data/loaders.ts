/**
 * Parsers of the datasets bundled in `data/` (see data/README.md for formats and licences),
 * from bytes, so they run in browsers and in Node alike; `fetch*` get the bytes from a URL
 * and gunzip them with the platform's DecompressionStream. Reading files from disk lives in
 * files.ts (`kiln/node`). Each takes the whole file at once: the largest, MNIST's test
 * images, is 7.8 MB uncompressed, so streaming would only add code.
 */
import { ValueError } from '../../runtime/errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

/** Features and integer class labels, one row per sample. */
export interface LabeledData {
  /** float32 [N, F]. */
  features: Tensor;
  /** int32 [N], class indices. */
  labels: Tensor;
}

/** Images and integer class labels. */
export interface LabeledImages {
  /** float32 [N, H, W], scaled to [0, 1]. */
  images: Tensor;
  /** int32 [N], class indices. */
  labels: Tensor;
}

/** True when `bytes` start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function rejectGzip(op: string, source: string, bytes: Uint8Array): Uint8Array {
  if (isGzip(bytes)) {
    throw new ValueError(`${op}: ${source} is gzipped; gunzip it first (data.gunzip, or the fetch and kiln/node loaders do it)`);
  }
  return bytes;
}

/** `bytes` gunzipped with the platform's DecompressionStream when they are gzip, else as they are. */
export async function gunzip(bytes: Uint8Array, source = 'bytes'): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new ValueError(`gunzip: ${source} is not a valid gzip file (${(e as Error).message})`);
  }
}

/** The bytes at `url`, gunzipped when they are gzip (a server may have decoded them already). */
export async function fetchBytes(op: string, url: string | URL): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new ValueError(`${op}: cannot fetch ${String(url)} (${(e as Error).message})`);
  }
  if (!response.ok) throw new ValueError(`${op}: cannot fetch ${String(url)} (HTTP ${response.status})`);
  return gunzip(new Uint8Array(await response.arrayBuffer()), String(url));
}

/** Non-empty lines of a text file, without line endings (tolerates CRLF and a final newline). */
function lines(bytes: Uint8Array): string[] {
  return new TextDecoder().decode(bytes).split(/\r?\n/).filter((l) => l.length > 0);
}

function parseRow(op: string, path: string, line: string, lineNo: number, columns: number): number[] {
  const cells = line.split(',');
  if (cells.length !== columns) throw new ValueError(`${op}: ${path} line ${lineNo} has ${cells.length} columns, expected ${columns}`);
  return cells.map((c, j) => {
    const v = Number(c);
    if (c.trim() === '' || !Number.isFinite(v)) throw new ValueError(`${op}: ${path} line ${lineNo} column ${j + 1} is not a number (got ${JSON.stringify(c)})`);
    return v;
  });
}

function checkLabel(op: string, path: string, v: number, classes: number, where: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= classes) throw new ValueError(`${op}: ${path} ${where} has label ${v}, expected an integer in 0..${classes - 1}`);
  return v;
}

/**
 * The 8×8 handwritten digits (1797 samples) from the bytes of `digits.csv` (not gzipped):
 * features float32 [1797, 64] holding the raw pixel counts 0..16 in row-major order, labels
 * int32 0..9. Divide by 16 to scale to [0, 1]. `source` names the bytes in errors.
 */
export function parseDigits(bytes: Uint8Array, source = 'bytes'): LabeledData {
  return readDigits('parseDigits', source, bytes);
}

/** @internal parseDigits with the caller's op name. */
export function readDigits(op: string, path: string, bytes: Uint8Array): LabeledData {
  const rows = lines(rejectGzip(op, path, bytes));
  const n = rows.length;
  const features = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  rows.forEach((line, i) => {
    const cells = parseRow(op, path, line, i + 1, 65);
    for (let j = 0; j < 64; j++) features[i * 64 + j] = cells[j]!;
    labels[i] = checkLabel(op, path, cells[64]!, 10, `line ${i + 1}`);
  });
  return { features: tensor(features, { shape: [n, 64] }), labels: tensor(labels) };
}

/** The digits (see parseDigits) from a URL, such as the bundled `data/digits.csv.gz` served as an asset. */
export async function fetchDigits(url: string | URL): Promise<LabeledData> {
  return readDigits('fetchDigits', String(url), await fetchBytes('fetchDigits', url));
}

/**
 * Fisher's iris data (150 samples) from the bytes of `iris.csv`: features float32 [150, 4]
 * in cm (sepal length, sepal width, petal length, petal width), labels int32 0..2, and the
 * class names from the header.
 */
export function parseIris(bytes: Uint8Array, source = 'bytes'): LabeledData & { classNames: string[] } {
  return readIris('parseIris', source, bytes);
}

/** @internal parseIris with the caller's op name. */
export function readIris(op: string, path: string, bytes: Uint8Array): LabeledData & { classNames: string[] } {
  const [header, ...rows] = lines(rejectGzip(op, path, bytes));
  // The first line is metadata, not column names: samples, features, then the class names.
  const meta = (header ?? '').split(',');
  const n = Number(meta[0]), f = Number(meta[1]);
  const classNames = meta.slice(2);
  if (!Number.isInteger(n) || !Number.isInteger(f) || f <= 0 || classNames.length === 0) {
    throw new ValueError(`${op}: ${path} line 1 must be "samples,features,class names..." (got ${JSON.stringify(header)})`);
  }
  if (rows.length !== n) throw new ValueError(`${op}: ${path} declares ${n} samples in its header but has ${rows.length} rows`);
  const features = new Float32Array(n * f);
  const labels = new Int32Array(n);
  rows.forEach((line, i) => {
    const cells = parseRow(op, path, line, i + 2, f + 1);
    for (let j = 0; j < f; j++) features[i * f + j] = cells[j]!;
    labels[i] = checkLabel(op, path, cells[f]!, classNames.length, `line ${i + 2}`);
  });
  return { features: tensor(features, { shape: [n, f] }), labels: tensor(labels), classNames };
}

/** The iris data (see parseIris) from a URL. */
export async function fetchIris(url: string | URL): Promise<LabeledData & { classNames: string[] }> {
  return readIris('fetchIris', String(url), await fetchBytes('fetchIris', url));
}

/** IDX type code 0x08: unsigned bytes, the only element type MNIST uses. */
const IDX_UBYTE = 0x08;

/**
 * The dims and elements of an IDX file of unsigned bytes with `ndim` dims. The magic number
 * is 0x0000 (two zero bytes), the type code, then the number of dims: 2049 for labels
 * (1 dim), 2051 for images (3 dims). Sizes are big-endian 32-bit integers.
 */
function parseIdx(op: string, path: string, bytes: Uint8Array, ndim: number, what: string): { dims: number[]; data: Uint8Array } {
  const expected = (IDX_UBYTE << 8) | ndim;
  if (bytes.length < 4) throw new ValueError(`${op}: ${path} is too short to be an IDX file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expected) {
    throw new ValueError(
      `${op}: ${path} is not an IDX ${what} file: magic number ${magic} (0x${magic.toString(16).padStart(8, '0')}), expected ${expected} (0x${expected.toString(16).padStart(8, '0')}: unsigned bytes, ${ndim} dim${ndim === 1 ? '' : 's'})`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw new ValueError(`${op}: ${path} ends inside its IDX header (${bytes.length} bytes, the header needs ${headerBytes})`);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - headerBytes !== size) {
    throw new ValueError(`${op}: ${path} has ${bytes.length - headerBytes} data bytes, but its header [${dims.join(',')}] needs ${size}`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * MNIST in its original IDX format, from the bytes of an images and a labels file (not
 * gzipped): images float32 [N, 28, 28] scaled from 0..255 to [0, 1], labels int32 0..9.
 */
export function parseMnist(imageBytes: Uint8Array, labelBytes: Uint8Array, sources: readonly [string, string] = ['images', 'labels']): LabeledImages {
  const [imagesName, labelsName] = sources;
  const images = rejectGzip('parseMnist', imagesName, imageBytes);
  return readMnist('parseMnist', imagesName, images, labelsName, rejectGzip('parseMnist', labelsName, labelBytes));
}

/** @internal parseMnist with the caller's op name. */
export function readMnist(op: string, imagesPath: string, imageBytes: Uint8Array, labelsPath: string, labelBytes: Uint8Array): LabeledImages {
  const img = parseIdx(op, imagesPath, imageBytes, 3, 'images');
  const lab = parseIdx(op, labelsPath, labelBytes, 1, 'labels');
  const [n, h, w] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) throw new ValueError(`${op}: ${imagesPath} holds ${n} images but ${labelsPath} holds ${lab.dims[0]} labels`);
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i]! / 255;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = checkLabel(op, labelsPath, lab.data[i]!, 10, `label ${i}`);
  return { images: tensor(images, { shape: [n, h, w] }), labels: tensor(labels) };
}

/** MNIST (see parseMnist) from the URLs of its images and labels files, gzipped or not. */
export async function fetchMnist(imagesUrl: string | URL, labelsUrl: string | URL): Promise<LabeledImages> {
  const [images, labels] = await Promise.all([fetchBytes('fetchMnist', imagesUrl), fetchBytes('fetchMnist', labelsUrl)]);
  return readMnist('fetchMnist', String(imagesUrl), images, String(labelsUrl), labels);
}
