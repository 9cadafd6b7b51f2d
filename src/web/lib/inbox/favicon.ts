/**
 * The needs-you count drawn on the tab's icon: the app's icon on a canvas with a badge, swapped
 * into every `<link rel="icon">`; at 0 the original icons come back. Browser-only, and harmless
 * where a canvas is not available (the title still carries the count).
 */
const SIZE = 64;

export class FaviconBadge {
  readonly #document: Document;
  readonly #originals = new Map<HTMLLinkElement, { href: string | null; type: string | null }>();
  #image: Promise<HTMLImageElement | undefined> | undefined;
  #shown = 0;
  #generation = 0;

  constructor(target: Document) {
    this.#document = target;
  }

  /** Shows `count` on the icon (0: the plain icon). */
  async show(count: number): Promise<void> {
    const generation = ++this.#generation;
    if (count === this.#shown) return;
    if (count <= 0) {
      this.#restore();
      this.#shown = 0;
      return;
    }
    const links = this.#links();
    const base = await this.#baseImage(links);
    if (generation !== this.#generation) return;
    const href = draw(this.#document, base, count);
    if (!href) return;
    for (const link of links) {
      if (!this.#originals.has(link)) {
        this.#originals.set(link, { href: link.getAttribute('href'), type: link.getAttribute('type') });
      }
      link.type = 'image/png';
      link.href = href;
      link.dataset.badge = String(count);
    }
    this.#shown = count;
  }

  #restore(): void {
    for (const [link, original] of this.#originals) {
      if (original.href === null) link.removeAttribute('href');
      else link.setAttribute('href', original.href);
      if (original.type === null) link.removeAttribute('type');
      else link.type = original.type;
      delete link.dataset.badge;
    }
    this.#originals.clear();
  }

  #links(): HTMLLinkElement[] {
    return [...this.#document.querySelectorAll<HTMLLinkElement>('link[rel~="icon"]')];
  }

  #baseImage(links: HTMLLinkElement[]): Promise<HTMLImageElement | undefined> {
    const source = links.map((link) => this.#originals.get(link)?.href ?? link.getAttribute('href')).find(Boolean);
    this.#image ??= new Promise((resolve) => {
      if (!source) return resolve(undefined);
      const image = new Image();
      image.onload = () => resolve(image);
      image.onerror = () => resolve(undefined);
      image.src = source;
    });
    return this.#image;
  }
}

function draw(document: Document, base: HTMLImageElement | undefined, count: number): string | undefined {
  const canvas = document.createElement('canvas');
  canvas.width = SIZE;
  canvas.height = SIZE;
  const context = canvas.getContext('2d');
  if (!context) return undefined;
  if (base) context.drawImage(base, 0, 0, SIZE, SIZE);
  const text = count > 99 ? '99+' : String(count);
  const radius = text.length > 1 ? 20 : 17;
  const x = SIZE - radius;
  const y = radius;
  context.beginPath();
  context.arc(x, y, radius, 0, 2 * Math.PI);
  context.fillStyle = '#e5484d';
  context.fill();
  context.lineWidth = 3;
  context.strokeStyle = '#ffffff';
  context.stroke();
  context.fillStyle = '#ffffff';
  context.font = `bold ${text.length > 2 ? 16 : text.length > 1 ? 22 : 26}px sans-serif`;
  context.textAlign = 'center';
  context.textBaseline = 'middle';
  context.fillText(text, x, y + 1);
  try {
    return canvas.toDataURL('image/png');
  } catch {
    return undefined; // a tainted canvas: leave the icon alone
  }
}
