import { jit } from '../../../../src/index.js';
export const f = jit((x) => { if (x > ) return 1; });
