/**
 * @kontext-sdk/contract — check any fal-compatible FLUX.1 Kontext endpoint (live fal, a gateway,
 * a mock) against the spec.
 */

// The error the kit throws on purpose (a KontextError): misuse of its API, never a finding about a server.
export { KontextContractError } from "./errors.js";
// JUnit XML of a run: one testcase per check.
export { type JUnitOptions, toJUnit } from "./junit.js";
// expect(...).toMatchKontextSpec(operationId, status?) for vitest and jest.
export { formatViolations, type KontextMatchers, kontextMatchers } from "./matchers.js";
// The protocol rules a schema cannot express, usable on their own.
export {
  checkProgress,
  checkQueueUrls,
  checkRequestId,
  checkStatusCode,
  PROTOCOL_RULES,
  type ProtocolRule,
  type QueueUrlContext,
} from "./protocol-rules.js";
// The readable report: one line per check, violations with JSON paths, a summary with the images requested.
export { checkLabel, type FormatOptions, formatReport } from "./report.js";
// The conversation runner and its report (wired into `kontext contract` by the CLI).
export { CHECK_NAMES, type Check, type CheckName, type ContractOptions, type ContractReport, runContract } from "./runner.js";
// The operations of both spec documents, read from the bundled spec.
export { type DocumentedResponse, type OperationId, type OperationInfo, specOperations } from "./spec-operations.js";
// One answer against the spec: violations with JSON paths.
export { type HeadersLike, parseEventStream, toJsonPath, type Violation, validateResponse } from "./validate-response.js";
