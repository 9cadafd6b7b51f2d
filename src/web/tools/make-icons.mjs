// Draws mainloop's app icons (a `❯_` prompt on the Eighties background) and writes them as
// PNG files into src/web/public/icons, using only Node's built-in zlib. The PNGs are
// committed; run this again only to change the design: `node src/web/tools/make-icons.mjs`.
import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const OUT = fileURLToPath(new URL('../public/icons/', import.meta.url));
const BACKGROUND = [0x2d, 0x2d, 0x2d];
const CHEVRON = [0x66, 0x99, 0xcc];
const CURSOR = [0x99, 0xcc, 0x99];

/** Shapes in unit coordinates (0..1), drawn centred and scaled by `scale`. */
const CHEVRON_POINTS = [
  [0.3, 0.3],
  [0.5, 0.5],
  [0.3, 0.7],
];
const CHEVRON_WIDTH = 0.09;
const CURSOR_RECT = { x0: 0.55, y0: 0.61, x1: 0.75, y1: 0.7 };

function distanceToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function inRoundedSquare(x, y, radius) {
  const cx = Math.min(Math.max(x, radius), 1 - radius);
  const cy = Math.min(Math.max(y, radius), 1 - radius);
  return Math.hypot(x - cx, y - cy) <= radius;
}

/** The colour and coverage of one sample point. */
function sample(x, y, { scale, cornerRadius }) {
  if (cornerRadius > 0 && !inRoundedSquare(x, y, cornerRadius)) return null;
  const u = (x - 0.5) / scale + 0.5;
  const v = (y - 0.5) / scale + 0.5;
  const nearChevron = Math.min(
    distanceToSegment(u, v, CHEVRON_POINTS[0], CHEVRON_POINTS[1]),
    distanceToSegment(u, v, CHEVRON_POINTS[1], CHEVRON_POINTS[2]),
  );
  if (nearChevron <= CHEVRON_WIDTH / 2) return CHEVRON;
  if (u >= CURSOR_RECT.x0 && u <= CURSOR_RECT.x1 && v >= CURSOR_RECT.y0 && v <= CURSOR_RECT.y1) return CURSOR;
  return BACKGROUND;
}

function render(size, options) {
  const SUB = 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      for (let sy = 0; sy < SUB; sy++) {
        for (let sx = 0; sx < SUB; sx++) {
          const colour = sample((column + (sx + 0.5) / SUB) / size, (row + (sy + 0.5) / SUB) / size, options);
          if (!colour) continue;
          r += colour[0];
          g += colour[1];
          b += colour[2];
          covered++;
        }
      }
      const offset = (row * size + column) * 4;
      if (covered > 0) {
        pixels[offset] = Math.round(r / covered);
        pixels[offset + 1] = Math.round(g / covered);
        pixels[offset + 2] = Math.round(b / covered);
      }
      pixels[offset + 3] = Math.round((255 * covered) / (SUB * SUB));
    }
  }
  return encodePng(size, size, pixels);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let row = 0; row < height; row++) {
    raw[row * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, row * (width * 4 + 1) + 1, row * width * 4, (row + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const ICONS = [
  // "any": a rounded square, transparent corners
  { file: 'icon-192.png', size: 192, scale: 1, cornerRadius: 0.2 },
  { file: 'icon-512.png', size: 512, scale: 1, cornerRadius: 0.2 },
  // "maskable": full bleed, the prompt inside the central safe zone
  { file: 'maskable-192.png', size: 192, scale: 0.75, cornerRadius: 0 },
  { file: 'maskable-512.png', size: 512, scale: 0.75, cornerRadius: 0 },
  // iOS rounds the corners itself
  { file: 'apple-touch-icon.png', size: 180, scale: 0.9, cornerRadius: 0 },
];

for (const icon of ICONS) {
  writeFileSync(OUT + icon.file, render(icon.size, icon));
  console.log(`wrote ${icon.file}`);
}

const hex = (colour) => `#${colour.map((part) => part.toString(16).padStart(2, '0')).join('')}`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <rect width="100" height="100" rx="20" fill="${hex(BACKGROUND)}"/>
  <polyline points="30,30 50,50 30,70" fill="none" stroke="${hex(CHEVRON)}" stroke-width="9" stroke-linecap="round" stroke-linejoin="round"/>
  <rect x="55" y="61" width="20" height="9" fill="${hex(CURSOR)}"/>
</svg>
`;
writeFileSync(OUT + 'favicon.svg', svg);
console.log('wrote favicon.svg');
