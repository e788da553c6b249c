/** Whether autograd records operations: on by default, off inside `noGrad`. */

let enabled = true;

/** True when operations on tensors that require grad are being recorded. */
export function isGradEnabled(): boolean {
  return enabled;
}

function withMode<T>(mode: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = mode;
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError('noGrad/enableGrad: the function returned a promise; grad mode is a synchronous scope, so await inside and wrap only the synchronous part');
    }
    return result;
  } finally {
    enabled = previous;
  }
}

/** Runs `fn` without recording gradients (optimizer updates, evaluation). */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}

/** Sets grad mode and returns the previous one (for replaying a recorded mode per op). */
export function setGradEnabled(mode: boolean): boolean {
  const previous = enabled;
  enabled = mode;
  return previous;
}
