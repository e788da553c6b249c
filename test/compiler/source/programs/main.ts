/**
 * Runs every program and prints one JSON line with what each reported. Run by the Node hook
 * test as `node --import tsx --import src/register.ts main.ts`.
 */
import { run as decorated } from './decorated.js';
import { run as errors } from './errors.js';
import { run as newton } from './newton.js';
import { run as seed } from './seed.js';
import { run as training } from './training.js';

console.log(JSON.stringify({ seed: seed(), newton: newton(), training: training(), decorated: decorated(), errors: errors() }));
