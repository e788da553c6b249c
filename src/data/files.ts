/**
 * The dataset loaders that read files (Node only, through `kiln/node`): the bundled
 * datasets by default, or any file in the same format, gzipped or not.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ValueError } from '../../runtime/errors.js';
import { isGzip, readDigits, readIris, readMnist, type LabeledData, type LabeledImages } from './loaders.js';
import { dataPath } from './paths.js';

/** The file's bytes, gunzipped when they start with the gzip magic (so plain files load too). */
function readMaybeGzip(op: string, path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ValueError(`${op}: cannot read ${path} (${(e as Error).message})`);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new ValueError(`${op}: ${path} is not a valid gzip file (${(e as Error).message})`);
  }
}

/** The 8×8 handwritten digits from a file (default: the bundled `data/digits.csv.gz`); see parseDigits. */
export function loadDigits(path = dataPath('digits.csv.gz')): LabeledData {
  return readDigits('loadDigits', path, readMaybeGzip('loadDigits', path));
}

/** Fisher's iris data from a file (default: the bundled `data/iris.csv`); see parseIris. */
export function loadIris(path = dataPath('iris.csv')): LabeledData & { classNames: string[] } {
  return readIris('loadIris', path, readMaybeGzip('loadIris', path));
}

/**
 * MNIST from IDX files, gzipped or not. The defaults are the bundled test set: images
 * float32 [10000, 28, 28] scaled to [0, 1], labels int32 0..9; see parseMnist.
 */
export function loadMnist(
  imagesPath = dataPath('mnist', 't10k-images-idx3-ubyte.gz'),
  labelsPath = dataPath('mnist', 't10k-labels-idx1-ubyte.gz'),
): LabeledImages {
  const images = readMaybeGzip('loadMnist', imagesPath);
  return readMnist('loadMnist', imagesPath, images, labelsPath, readMaybeGzip('loadMnist', labelsPath));
}
