/**
 * Linear warm-up then linear decay to 0, as transformers' get_linear_schedule_with_warmup: the
 * multiplier for the optimizer step taken after `step` earlier steps (the first step uses 0).
 */
export function linearSchedule(step: number, total: number, warmup: number): number {
  if (step < warmup) return step / Math.max(1, warmup);
  return Math.max(0, (total - step) / Math.max(1, total - warmup));
}
