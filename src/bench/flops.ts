/**
 * Analytic FLOP count (2 per multiply-add) of one UNet forward pass per image, walking the same layout as
 * src/core/nn/unet.ts: 3x3 / 1x1 convolutions, the timestep MLP, self-attention products. Norms and elementwise
 * ops are not counted. A training step is counted as 3x the forward pass (forward + two backward products).
 */
import type { UNetConfig } from '../core/nn/unet.js';

const conv = (r: number, k: number, cin: number, cout: number) => 2 * r * r * k * k * cin * cout;
const attention = (r: number, c: number) => conv(r, 1, c, 3 * c) + 2 * 2 * (r * r) ** 2 * c + conv(r, 1, c, c);
const resBlock = (r: number, cin: number, cout: number, td: number) =>
  conv(r, 3, cin, cout) + conv(r, 3, cout, cout) + 2 * td * cout + (cin !== cout ? conv(r, 1, cin, cout) : 0);

export function unetForwardFlops(c: UNetConfig): number {
  const ch = c.baseChannels;
  const td = 4 * ch;
  let f = 2 * ch * td + 2 * td * td + conv(c.imageSize, 3, c.inChannels, ch);
  const chans = [ch];
  let cur = ch;
  let r = c.imageSize;
  c.channelMult.forEach((m, i) => {
    for (let b = 0; b < c.numResBlocks; b++) {
      f += resBlock(r, cur, ch * m, td) + (c.attnResolutions.includes(r) ? attention(r, ch * m) : 0);
      cur = ch * m;
      chans.push(cur);
    }
    if (i !== c.channelMult.length - 1) {
      f += conv(r / 2, 3, cur, cur);
      chans.push(cur);
      r /= 2;
    }
  });
  f += 2 * resBlock(r, cur, cur, td) + attention(r, cur);
  for (let i = c.channelMult.length - 1; i >= 0; i--) {
    for (let b = 0; b < c.numResBlocks + 1; b++) {
      const cin = cur + chans.pop()!;
      f += resBlock(r, cin, ch * c.channelMult[i], td) + (c.attnResolutions.includes(r) ? attention(r, ch * c.channelMult[i]) : 0);
      cur = ch * c.channelMult[i];
    }
    if (i !== 0) {
      r *= 2;
      f += conv(r, 3, cur, cur);
    }
  }
  return f + conv(c.imageSize, 3, cur, c.inChannels);
}
