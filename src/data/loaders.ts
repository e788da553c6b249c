/**
 * Loaders for the datasets bundled in `data/` (see data/README.md for formats and licences).
 * Each reads the whole file synchronously: the largest, MNIST's test images, is 7.8 MB
 * uncompressed, so streaming would only add code.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ValueError } from '../../runtime/errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { dataPath } from './paths.js';

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

/** The file's bytes, gunzipped when they start with the gzip magic (so plain files load too). */
function readMaybeGzip(op: string, path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ValueError(`${op}: cannot read ${path} (${(e as Error).message})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new ValueError(`${op}: ${path} is not a valid gzip file (${(e as Error).message})`);
    }
  }
  return bytes;
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
 * The 8×8 handwritten digits (1797 samples): features float32 [1797, 64] holding the raw
 * pixel counts 0..16 in row-major order, labels int32 0..9. Divide by 16 to scale to [0, 1].
 */
export function loadDigits(path = dataPath('digits.csv.gz')): LabeledData {
  const rows = lines(readMaybeGzip('loadDigits', path));
  const n = rows.length;
  const features = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  rows.forEach((line, i) => {
    const cells = parseRow('loadDigits', path, line, i + 1, 65);
    for (let j = 0; j < 64; j++) features[i * 64 + j] = cells[j]!;
    labels[i] = checkLabel('loadDigits', path, cells[64]!, 10, `line ${i + 1}`);
  });
  return { features: tensor(features, { shape: [n, 64] }), labels: tensor(labels) };
}

/**
 * Fisher's iris data (150 samples): features float32 [150, 4] in cm (sepal length, sepal
 * width, petal length, petal width), labels int32 0..2, and the class names from the header.
 */
export function loadIris(path = dataPath('iris.csv')): LabeledData & { classNames: string[] } {
  const [header, ...rows] = lines(readMaybeGzip('loadIris', path));
  // The first line is metadata, not column names: samples, features, then the class names.
  const meta = (header ?? '').split(',');
  const n = Number(meta[0]), f = Number(meta[1]);
  const classNames = meta.slice(2);
  if (!Number.isInteger(n) || !Number.isInteger(f) || f <= 0 || classNames.length === 0) {
    throw new ValueError(`loadIris: ${path} line 1 must be "samples,features,class names..." (got ${JSON.stringify(header)})`);
  }
  if (rows.length !== n) throw new ValueError(`loadIris: ${path} declares ${n} samples in its header but has ${rows.length} rows`);
  const features = new Float32Array(n * f);
  const labels = new Int32Array(n);
  rows.forEach((line, i) => {
    const cells = parseRow('loadIris', path, line, i + 2, f + 1);
    for (let j = 0; j < f; j++) features[i * f + j] = cells[j]!;
    labels[i] = checkLabel('loadIris', path, cells[f]!, classNames.length, `line ${i + 2}`);
  });
  return { features: tensor(features, { shape: [n, f] }), labels: tensor(labels), classNames };
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
 * MNIST in its original IDX format (gzipped or not). The defaults are the bundled test set:
 * images float32 [10000, 28, 28] scaled from 0..255 to [0, 1], labels int32 0..9.
 */
export function loadMnist(
  imagesPath = dataPath('mnist', 't10k-images-idx3-ubyte.gz'),
  labelsPath = dataPath('mnist', 't10k-labels-idx1-ubyte.gz'),
): LabeledImages {
  const img = parseIdx('loadMnist', imagesPath, readMaybeGzip('loadMnist', imagesPath), 3, 'images');
  const lab = parseIdx('loadMnist', labelsPath, readMaybeGzip('loadMnist', labelsPath), 1, 'labels');
  const [n, h, w] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) throw new ValueError(`loadMnist: ${imagesPath} holds ${n} images but ${labelsPath} holds ${lab.dims[0]} labels`);
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i]! / 255;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = checkLabel('loadMnist', labelsPath, lab.data[i]!, 10, `label ${i}`);
  return { images: tensor(images, { shape: [n, h, w] }), labels: tensor(labels) };
}
