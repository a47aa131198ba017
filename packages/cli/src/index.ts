/**
 * @kontext-sdk/cli — the `kontext` command. This file is the table of contents; the bin
 * (src/bin.ts) only calls `main` with the process's arguments.
 *
 *   program.ts        commands, flags, help, exit codes (`main`)
 *   commands/         generate|edit|multi (generate.ts), status|result|cancel (queue.ts), upload, mock,
 *                     contract, batch run|resume|status|worker (batch.ts, on @kontext-sdk/batch)
 *   inputs.ts         flags → endpoint + input, validation issues → flag names, local images checked
 *   uploads.ts        local images uploaded to storage (large, streamed from disk) or inlined (small)
 *   credentials.ts    key, base URL, auth scheme; the embedded mock server when there is no key
 *   progress.ts       live status line on a terminal, plain lines otherwise
 *   output.ts         image files in --out, the printed report and the --json document
 *   images.ts         image sizes and saved-file types (sniffing and data URIs: the protocol core)
 *   errors.ts         exit codes, one-line error descriptions, the CLI's KontextError subclasses
 *   io.ts             the streams, environment and signals the CLI uses (injectable for tests)
 *
 * fal's rules (redaction with `[redacted]`, truncation, error bodies, image sniffing, data URIs,
 * control-character escaping) come from `@kontext-sdk/schema/protocol`; none is copied here.
 */

export { type AuthScheme, type GlobalFlags, resolveTarget } from "./credentials.js";
export { describeError, EXIT, InterruptedError, OutputError, UsageError } from "./errors.js";
export { imageSize } from "./images.js";
export { buildInput, DEFAULT_TIER, endpointFor, type ImageFlags, issueToFlagMessage } from "./inputs.js";
export type { CliIO, OutputStream } from "./io.js";
export { DEFAULT_OUT_DIR, resultDocument, type SavedImage, saveImages } from "./output.js";
export { buildProgram, main, version } from "./program.js";
