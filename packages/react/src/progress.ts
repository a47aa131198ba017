import type { LogEntry, QueueStatus } from "@kontext-sdk/schema";

/** Every state a generation goes through, in order; `error` and `cancelled` end it early. */
export type KontextStatus = "idle" | "submitting" | "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED" | "error" | "cancelled";

function sameEntry(a: LogEntry, b: LogEntry | undefined): boolean {
  return b !== undefined && a.message === b.message && a.timestamp === b.timestamp && a.level === b.level;
}

/**
 * fal sends a job's logs as the whole list so far when polled, while a stream may send only the new lines.
 * Accept both: a list that starts with what we have replaces it, anything else is appended.
 */
export function mergeLogs(current: readonly LogEntry[], incoming: readonly LogEntry[] | null | undefined): LogEntry[] {
  if (!incoming || incoming.length === 0) return current as LogEntry[];
  const cumulative = incoming.length >= current.length && current.every((entry, i) => sameEntry(entry, incoming[i]));
  return cumulative ? [...incoming] : [...current, ...incoming];
}

/** Jobs ahead of this one, only while it waits. */
export function queuePositionOf(status: QueueStatus | undefined): number | undefined {
  return status?.status === "IN_QUEUE" ? status.queue_position : undefined;
}

export const EMPTY_LOGS: LogEntry[] = [];
