/** The demo's two canvases: the loss curve, and the pad a digit is drawn on. */

/** Draws the per-batch losses as a line, scaled to the canvas, with its latest value. */
export function drawLoss(canvas: HTMLCanvasElement, losses: readonly number[]): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (losses.length < 2) return;
  const top = Math.max(...losses);
  ctx.strokeStyle = '#c0392b';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  losses.forEach((loss, i) => {
    const x = (i / (losses.length - 1)) * (width - 10) + 5;
    const y = height - 5 - (loss / top) * (height - 25);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#222';
  ctx.font = '12px system-ui';
  ctx.fillText(`loss ${losses.at(-1)!.toFixed(3)} after ${losses.length} batches`, 8, 14);
}

/** Lets the user draw with a thick white stroke; `changed` runs after each stroke. */
export function setupPad(canvas: HTMLCanvasElement, changed: () => void): void {
  const ctx = canvas.getContext('2d')!;
  let drawing = false;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    ctx.beginPath();
    ctx.moveTo(...at(e));
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 9;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  canvas.addEventListener('pointerup', () => {
    drawing = false;
    changed();
  });
}

/**
 * The pad as the digits dataset stores an image: 8×8 blocks, each the count 0..16 of set
 * pixels in a 4×4 grid of the original 32×32 bitmap, here the block's mean brightness × 16.
 */
export function padPixels(canvas: HTMLCanvasElement): Float32Array {
  const { width, height } = canvas;
  const image = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
  const out = new Float32Array(64);
  const bw = width / 8, bh = height / 8;
  for (let by = 0; by < 8; by++) {
    for (let bx = 0; bx < 8; bx++) {
      let sum = 0, count = 0;
      for (let y = Math.floor(by * bh); y < Math.floor((by + 1) * bh); y++) {
        for (let x = Math.floor(bx * bw); x < Math.floor((bx + 1) * bw); x++) {
          sum += image[(y * width + x) * 4]! / 255;
          count++;
        }
      }
      out[by * 8 + bx] = Math.round((sum / count) * 16);
    }
  }
  return out;
}
