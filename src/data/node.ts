/** `data` for Node: everything of the main entry's `data`, plus loaders that read files and the bundled data folder. */
export * from './index.js';
export { loadDigits, loadIris, loadMnist } from './files.js';
export { dataDir, dataPath } from './paths.js';
