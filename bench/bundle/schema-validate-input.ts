// What input validation costs on its own: @kontext-sdk/schema's validateInput and its messages.
import { formatIssues, validateInput } from "@kontext-sdk/schema";

export function check(endpoint: string, input: unknown): string | undefined {
  const checked = validateInput(endpoint, input);
  return checked.ok ? undefined : formatIssues(checked.issues);
}
