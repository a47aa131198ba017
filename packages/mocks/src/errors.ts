/**
 * The one error the mock throws on purpose: a bad option, named with the rule it breaks. It extends the
 * shared `KontextError`, so `instanceof KontextError` catches it like any other kontext-sdk error.
 * (Requests never throw: every bad request is answered in fal's error shapes.)
 */
import { KontextError } from "@kontext-sdk/schema/protocol";

export class KontextMockError extends KontextError {
  override name = "KontextMockError";
  /** The option at fault, e.g. `"concurrencyLimit"`. */
  readonly option: string;

  /**
   * `where` names the call the option was given to (`createKontextMock` unless said otherwise, e.g.
   * `startMockServer` for a port it cannot listen on); `cause` keeps the underlying error, if any.
   */
  constructor(option: string, rule: string, where = "createKontextMock", options?: { cause?: unknown }) {
    super(`${where}: ${option} ${rule}`, options);
    this.option = option;
  }
}
