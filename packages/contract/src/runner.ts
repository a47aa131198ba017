/**
 * The conversation runner: walks fal's queue protocol the way a client does, against any base URL,
 * and checks every request it sends and every answer it gets. This module only orders the check
 * groups (src/checks/*) and totals the report; each group is a module of its own.
 */
import { runCancel } from "./checks/cancel.js";
import { runCredentials } from "./checks/credentials.js";
import { runInvalidInput } from "./checks/invalid-input.js";
import { runJob } from "./checks/job.js";
import { runSync } from "./checks/sync-run.js";
import { runUnknownId } from "./checks/unknown-id.js";
import { type BudgetPlan, planBudget } from "./run/budget.js";
import { createRunContext, type RunContext, skipped } from "./run/context.js";
import { type ContractOptions, type ContractReport, JOB_CHECKS } from "./run/types.js";

export { CHECK_NAMES, type Check, type CheckName, type ContractOptions, type ContractReport } from "./run/types.js";

export async function runContract(options: ContractOptions = {}): Promise<ContractReport> {
  const started = Date.now();
  const context = createRunContext(options);
  const maxImages = options.maxImages ?? Number.POSITIVE_INFINITY;
  const budget = planBudget(context, maxImages);

  // Without a key, one free call tells whether the server wants one, before nine calls fail alike.
  const refused = context.authorization ? undefined : await runCredentials(context);
  if (refused) skipAll(context, refused);
  else await runAll(context, budget);

  const { checks } = context;
  const report: ContractReport = {
    baseUrl: context.baseUrl,
    endpoints: context.endpoints,
    checks,
    imagesRequested: context.imagesRequested,
    maxImages,
    passed: checks.filter((check) => check.ok && !check.skipped).length,
    failed: checks.filter((check) => !check.ok).length,
    skipped: checks.filter((check) => check.skipped).length,
    durationMs: Date.now() - started,
  };
  if (context.syncBaseUrl) report.syncBaseUrl = context.syncBaseUrl;
  return report;
}

async function runAll(context: RunContext, budget: BudgetPlan): Promise<void> {
  // Protocol-wide checks that cost nothing come first.
  await runUnknownId(context);
  await runInvalidInput(context, budget.invalidInput, budget.overBudget);
  for (const [index, endpoint] of context.endpoints.entries()) {
    await runJob(context, endpoint, budget.endpoints[index] ?? false, budget.overBudget);
  }
  await runCancel(context, budget.cancel, budget.overBudget);
  await runSync(context, budget.syncRun, budget.overBudget);
}

/** Every check the run would have made, skipped for one reason (the report still lists them). */
function skipAll(context: RunContext, reason: string): void {
  skipped(context, "unknown request id", undefined, reason);
  skipped(context, "invalid input", undefined, reason);
  for (const endpoint of context.endpoints) for (const name of JOB_CHECKS) skipped(context, name, endpoint, reason);
  skipped(context, "cancel", undefined, reason);
  if (context.syncBaseUrl) skipped(context, "sync run", undefined, reason);
}
