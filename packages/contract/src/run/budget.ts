/**
 * The image budget, planned up front in priority order: one job per endpoint first, then the
 * cancelled job, the invalid input and the sync run. What does not fit is skipped, not cut short.
 */
import type { RunContext } from "./context.js";

export interface BudgetPlan {
  /** One flag per chosen endpoint, in order. */
  endpoints: boolean[];
  cancel: boolean;
  invalidInput: boolean;
  syncRun: boolean;
  /** The reason written on checks the budget leaves out. */
  overBudget: string;
}

export function planBudget(context: RunContext, maxImages: number): BudgetPlan {
  let left = maxImages;
  const take = () => {
    if (left < 1) return false;
    left--;
    return true;
  };
  const endpoints = context.endpoints.map(() => take());
  const cancel = !context.skip.has("cancel") && context.endpoints.length > 0 && take();
  const invalidInput = !context.skip.has("invalid input") && take();
  const syncRun = !context.skip.has("sync run") && context.syncBaseUrl !== undefined && take();
  return { endpoints, cancel, invalidInput, syncRun, overBudget: `skipped: max images (${maxImages}) reached` };
}
