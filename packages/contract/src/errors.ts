/**
 * The error the contract kit throws on purpose (a misuse of its API, a spec it cannot read). It
 * extends the shared `KontextError`, so `instanceof KontextError` catches it like any other
 * kontext-sdk error. Findings about a server are never thrown: they are violations in the report.
 */
import { KontextError } from "@kontext-sdk/schema/protocol";

export class KontextContractError extends KontextError {
  override name = "KontextContractError";
}
