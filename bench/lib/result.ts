/**
 * One benchmark figure: a measured value next to a floor measured in the same run on the same
 * machine (never an absolute threshold), and whether the ratio meets its target.
 */
export interface BenchResult {
  name: string;
  value: number;
  floor: number;
  /** value / floor */
  ratio: number;
  /** the goal in words, e.g. "p99 ≤ 2× floor" */
  target: string;
  pass: boolean;
  details?: Record<string, number>;
}
