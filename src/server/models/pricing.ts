/**
 * List prices of Claude models in USD per million tokens, for the cost shown with a reply.
 * An estimate: long-context surcharges, batch discounts and negotiated rates are ignored.
 * Source: platform.claude.com model pages and pricing, as of 2026-11. A model missing here
 * has no cost (undefined), never a guessed one.
 */
interface Price {
  input: number;
  output: number;
  cacheRead: number;
  /** a 5-minute cache write */
  cacheWrite: number;
}

const price = (input: number, output: number, cacheRead = input / 10): Price => ({
  input,
  output,
  cacheRead,
  cacheWrite: input * 1.25,
});

/** Keyed by model id without its date suffix (`claude-haiku-4-5-20251001` → `claude-haiku-4-5`). */
const PRICES: Record<string, Price> = {
  'claude-opus-5-5': price(4, 20, 0.2),
  'claude-opus-5': price(5, 25),
  'claude-opus-4-8': price(5, 25),
  'claude-opus-4-7': price(5, 25),
  'claude-opus-4-6': price(5, 25),
  'claude-opus-4-5': price(5, 25),
  'claude-opus-4-1': price(15, 75),
  'claude-opus-4-0': price(15, 75),
  'claude-opus-4': price(15, 75),
  'claude-sonnet-5-5': price(2, 10, 0.1),
  'claude-sonnet-5': price(2, 10),
  'claude-sonnet-4-6': price(3, 15),
  'claude-sonnet-4-5': price(3, 15),
  'claude-sonnet-4-0': price(3, 15),
  'claude-sonnet-4': price(3, 15),
  'claude-3-7-sonnet': price(3, 15),
  'claude-3-5-sonnet': price(3, 15),
  'claude-haiku-4-5': price(1, 5),
  'claude-3-5-haiku': price(0.8, 4),
  'claude-3-haiku': price(0.25, 1.25),
  'claude-3-opus': price(15, 75),
};

export interface UsageForCost {
  /** every input token, cached ones included */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/** The list-price cost of one request, or undefined when the model's price is not known. */
export function estimateCostUsd(model: string, usage: UsageForCost): number | undefined {
  const rates = PRICES[normalizeModelId(model)];
  if (!rates) return undefined;
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const uncached = Math.max(0, usage.inputTokens - cacheRead - cacheWrite);
  const dollars =
    uncached * rates.input +
    cacheRead * rates.cacheRead +
    cacheWrite * rates.cacheWrite +
    usage.outputTokens * rates.output;
  // per million tokens; rounded to a millionth of a dollar so sums stay readable
  return Math.round(dollars) / 1_000_000;
}

function normalizeModelId(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^anthropic[/.]/, '')
    .replace(/-latest$/, '')
    .replace(/-\d{8}$/, '');
}
