/**
 * The command line itself (commander): every command, flag and help text, and the one place
 * that turns outcomes into exit codes and failures into single readable lines.
 */
import {
  ASPECT_RATIOS,
  type EndpointKind,
  INPUT_DEFAULTS,
  INPUT_RANGES,
  OUTPUT_FORMATS,
  SAFETY_TOLERANCES,
  type ValidationIssue,
} from "@kontext-sdk/schema";
import { redactor } from "@kontext-sdk/schema/protocol";
import { Command, CommanderError, Option } from "commander";
import { version } from "../package.json";
import { registerBatchCommand } from "./commands/batch.js";
import type { CommandContext } from "./commands/context.js";
import { contractCommand } from "./commands/contract.js";
import { runImageCommand } from "./commands/generate.js";
import { mockCommand } from "./commands/mock.js";
import { cancelCommand, resultCommand, statusCommand } from "./commands/queue.js";
import { runUpload, type UploadFlags } from "./commands/upload.js";
import { type GlobalFlags, secretsIn } from "./credentials.js";
import { describeError, EXIT, isInputError, UsageError } from "./errors.js";
import { DEFAULT_TIER, issueToFlagMessage } from "./inputs.js";
import { type CliIO, redactingStream, resolveIO } from "./io.js";
import { DEFAULT_OUT_DIR } from "./output.js";

export { version };

/**
 * Runs the CLI on `argv` (the arguments after the program name) and resolves to the exit code.
 * Never calls process.exit, so tests can drive it in-process with their own `io`.
 */
export async function main(argv: readonly string[], ioOverrides: Partial<CliIO> = {}): Promise<number> {
  const base = resolveIO(ioOverrides);
  // The --key value is known before parsing, so even commander's own messages cannot show it.
  const secrets = secretKeeper([...secretsIn({}, base.env), ...keyArguments(argv)]);
  const blank = secrets.redact;
  const io: CliIO = {
    ...base,
    stdout: redactingStream(base.stdout, blank),
    stderr: redactingStream(base.stderr, blank),
    redact: blank,
  };

  const state = { exitCode: EXIT.ok as number, command: "", host: undefined as string | undefined };
  const program = buildProgram(io, async (command, run) => {
    state.command = commandPath(command);
    const globals = command.optsWithGlobals() as GlobalFlags;
    if (globals.key) secrets.add(globals.key);
    state.exitCode = await run({ io, globals, argv, connected: (host) => (state.host = host) });
  });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // The client checks inputs too; its verdict before any request is a usage error like ours.
    const usage = error instanceof UsageError ? error : clientValidationAsUsage(error);
    if (usage) {
      const lines = usage.details.length ? usage.details : [usage.message];
      for (const line of lines) io.stderr.write(`error: ${line}\n`);
      io.stderr.write(`(nothing was sent; see "kontext ${state.command ? `${state.command} ` : ""}--help")\n`);
      return EXIT.usage;
    }
    // fal refused the input (a 422, usually from the result call after the job ran): still the
    // input's fault, so the same exit code as a bad flag, with fal's own words.
    if (isInputError(error)) {
      io.stderr.write(`error: ${describeError(error, { host: state.host, redact: blank })}\n`);
      return EXIT.usage;
    }
    // 401/403: the most likely fix is the key or the scheme, so the one line says where to look.
    const status = (error as { status?: unknown } | null)?.status;
    const hint = status === 401 || status === 403 ? " (check FAL_KEY or --key, and --auth-scheme for gateways)" : "";
    io.stderr.write(`error: ${describeError(error, { host: state.host, redact: blank })}${hint}\n`);
    return EXIT.failure;
  }
}

/**
 * The secrets to blank, with the core's redactor built once for them: every output write redacts, and
 * working out every form of every secret on each write would be wasted. Rebuilt only when a secret not
 * seen before is added (the same key often arrives as both FAL_KEY and the resolved key).
 */
function secretKeeper(initial: readonly string[]): { add(secret: string): void; redact(text: string): string } {
  const known = new Set(initial.filter(Boolean));
  let blank = redactor([...known]);
  return {
    add(secret) {
      if (!secret || known.has(secret)) return;
      known.add(secret);
      blank = redactor([...known]);
    },
    redact: (text) => blank(text),
  };
}

/**
 * The words between `kontext` and the flags that name a command (`batch worker`, not just `worker`),
 * so the usage hint points at a help page that exists.
 */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names.join(" ");
}

function keyArguments(argv: readonly string[]): string[] {
  return argv.flatMap((arg, i) => {
    if (arg === "--key") return argv[i + 1] ? [argv[i + 1]!] : [];
    return arg.startsWith("--key=") ? [arg.slice("--key=".length)] : [];
  });
}

/** A `KontextValidationError` without an HTTP status was raised before anything was sent. */
function clientValidationAsUsage(error: unknown): UsageError | undefined {
  const e = error as { name?: string; status?: unknown; issues?: ValidationIssue[]; message?: string } | null;
  if (e?.name !== "KontextValidationError" || e.status !== undefined) return undefined;
  return new UsageError(e.message ?? "invalid input", (e.issues ?? []).map(issueToFlagMessage));
}

type Runner = (command: Command, run: (ctx: CommandContext) => Promise<number>) => Promise<void>;

/**
 * The whole command line, in the order `--help` lists it: the global flags and help text, then one
 * group of commands per register function below.
 */
export function buildProgram(io: CliIO, runner: Runner): Command {
  const program = createRootCommand(io);
  registerImageCommands(program, runner);
  registerUploadCommand(program, runner);
  registerQueueCommands(program, runner);
  registerMockCommand(program, runner);
  registerContractCommand(program, runner);
  registerBatchCommand(program, runner);
  return program;
}

/** `kontext` itself: the global flags, where its output goes, and the examples after the help. */
function createRootCommand(io: CliIO): Command {
  const program = new Command("kontext")
    .description("Generate and edit images with FLUX.1 Kontext on fal.ai. Without FAL_KEY it runs on a built-in mock.")
    .version(version, "-v, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .option("--key <key>", "fal API key (default: $FAL_KEY; prefer the variable, flags show up in `ps`)")
    .option(
      "--base-url <url>",
      "queue host of a fal-compatible gateway or mock (default: https://queue.fal.run, or $KONTEXT_BASE_URL)",
    )
    .option("--sync-base-url <url>", "host for --sync runs (default: https://fal.run, or <base-url>/sync with --base-url)")
    .option(
      "--storage-base-url <url>",
      "storage host for image uploads (default: https://rest.fal.ai without --base-url; none with it: images then go inline)",
    )
    .addOption(
      new Option("--auth-scheme <scheme>", "Authorization scheme (default: Key; gateways often want Bearer)").choices([
        "Key",
        "Bearer",
      ]),
    )
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showSuggestionAfterError(true)
    // commander must report, not exit: main() owns the exit code (2 for usage errors).
    .exitOverride();
  program.addHelpCommand(false);
  program.addHelpText(
    "after",
    `
Examples:
  kontext generate "a red fox reading a newspaper in a snowy park" --num-images 2
  kontext edit "make it night time" --image photo.png --format png
  kontext multi "the cat from the first image on the sofa from the second" --image cat.jpg --image sofa.jpg
  kontext result fal-ai/flux-pro/kontext/text-to-image <request-id>

Environment: FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET), KONTEXT_BASE_URL, KONTEXT_SYNC_BASE_URL, KONTEXT_AUTH_SCHEME.
Exit codes: 0 done, 1 the job, network or API failed, 2 the input was refused (a bad command line: nothing
sent; or fal's 422), 75 result --no-wait: the job is still running, 130 interrupted (job cancelled).`,
  );
  return program;
}

/** generate, edit and multi: one command per endpoint kind, sharing the image flags. */
function registerImageCommands(program: Command, runner: Runner): void {
  const imageCommand = (name: string, kind: EndpointKind, summary: string) => {
    const command = program
      .command(name)
      .description(summary)
      .argument("<prompt...>", "what to generate, or how to change the image(s)");
    if (kind === "edit")
      command.option("--image <path|url>", "the image to edit: a local PNG/JPEG/WebP/GIF file or an http(s) URL", collect);
    if (kind === "multi") command.option("--image <path|url>", "an input image (give it once per image, in order)", collect);
    addImageOptions(command, kind).action(async (words: string[], flags, cmd: Command) =>
      runner(cmd, (ctx) => runImageCommand(ctx, kind, words, flags)),
    );
  };
  imageCommand("generate", "text-to-image", "make images from a prompt");
  imageCommand("edit", "edit", "edit one image following the prompt");
  imageCommand("multi", "multi", "combine several images following the prompt");
}

function registerUploadCommand(program: Command, runner: Runner): void {
  program
    .command("upload")
    .description("upload an image to fal's storage and print its URL (to pass as --image or image_url)")
    .argument("<file>", "a local PNG, JPEG, WebP, GIF or AVIF file")
    .option("--json", "print {url} as JSON")
    .action(async (file: string, flags: UploadFlags, cmd: Command) => runner(cmd, (ctx) => runUpload(ctx, file, flags)));
}

/** status, result and cancel: the calls on a request already in the queue, by endpoint and request id. */
function registerQueueCommands(program: Command, runner: Runner): void {
  program
    .command("status")
    .description("show the queue status of a request")
    .argument("<endpoint>", "the endpoint id the request was submitted to")
    .argument("<request-id>")
    .option("--logs", "include the job's log lines")
    .option("--json", "print the status as JSON")
    .action(async (endpoint: string, id: string, flags, cmd: Command) =>
      runner(cmd, (ctx) => statusCommand(ctx, endpoint, id, flags)),
    );

  program
    .command("result")
    .description("wait for a request to finish and save its images")
    .argument("<endpoint>", "the endpoint id the request was submitted to")
    .argument("<request-id>")
    .option("-o, --out <dir>", `where to write the images (default: ./${DEFAULT_OUT_DIR})`)
    .option("--no-wait", "fail instead of waiting when the job has not finished")
    .option("--json", "print only the result as JSON")
    .action(async (endpoint: string, id: string, flags, cmd: Command) =>
      runner(cmd, (ctx) => resultCommand(ctx, endpoint, id, flags)),
    );

  program
    .command("cancel")
    .description("cancel a queued or running request")
    .argument("<endpoint>", "the endpoint id the request was submitted to")
    .argument("<request-id>")
    .option("--json", "print the answer as JSON")
    .action(async (endpoint: string, id: string, flags, cmd: Command) =>
      runner(cmd, (ctx) => cancelCommand(ctx, endpoint, id, flags)),
    );
}

function registerMockCommand(program: Command, runner: Runner): void {
  program
    .command("mock")
    .description("run the mock fal queue server in the foreground until Ctrl-C")
    .option("-p, --port <port>", "port to listen on (0 picks a free one)", "4010")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--step <ms>", "milliseconds per simulated queue/progress step (slower jobs)")
    .option("--validate-at <when>", 'where bad input is refused: "result" (like fal) or "submit" (like some gateways)', "result")
    .option("--concurrency-limit <n>", "jobs that may run at once, like fal's account limit (the rest wait in the queue)")
    .action(async (flags, cmd: Command) => runner(cmd, (ctx) => mockCommand(ctx, flags)));
}

function registerContractCommand(program: Command, runner: Runner): void {
  program
    .command("contract")
    .description("check a fal-compatible endpoint against the spec (default: the built-in mock)")
    .option("--endpoints <ids...>", "endpoint ids to exercise (default: all); comma or space separated")
    .option("--max-images <n>", "upper bound on the images the run may request (they cost money on a paid API)")
    .option("--junit <file>", "also write a JUnit XML report")
    .option("--allow-foreign-urls", "accept status/response/cancel URLs on another origin (gateways that return fal's own URLs)")
    .option("--arazzo", "run the Arazzo workflows with redocly respect instead (needs @redocly/cli installed)")
    .action(async (flags, cmd: Command) => runner(cmd, (ctx) => contractCommand(ctx, flags)));
}

function addImageOptions(command: Command, kind: EndpointKind): Command {
  const range = (r: { minimum?: number; maximum?: number }) => `${r.minimum ?? ""}-${r.maximum ?? ""}`;
  return command
    .option("--aspect-ratio <ratio>", `${ASPECT_RATIOS.join(", ")}${kind === "text-to-image" ? " (default: 1:1)" : ""}`)
    .option("-n, --num-images <n>", `how many images, ${range(INPUT_RANGES.num_images)} (default: ${INPUT_DEFAULTS.num_images})`)
    .option("--seed <n>", "a whole number; the same seed and prompt give the same image")
    .option(
      "--guidance <scale>",
      `how closely to follow the prompt, ${range(INPUT_RANGES.guidance_scale)} (default: ${INPUT_DEFAULTS.guidance_scale})`,
    )
    .option("--format <format>", `${OUTPUT_FORMATS.join(" or ")} (default: ${INPUT_DEFAULTS.output_format})`)
    .option(
      "--safety <level>",
      `safety tolerance ${SAFETY_TOLERANCES[0]} (strictest) to ${SAFETY_TOLERANCES.at(-1)} (default: ${INPUT_DEFAULTS.safety_tolerance})`,
    )
    .option("--enhance-prompt", "let the model rewrite the prompt")
    .addOption(new Option("--tier <tier>", `model tier (default: ${DEFAULT_TIER[kind]})`).choices(["pro", "max"]))
    .option("-o, --out <dir>", `where to write the images (default: ./${DEFAULT_OUT_DIR})`)
    .option("--sync", "one direct request to the sync host instead of the queue (no request id, no progress)")
    .option("--timeout <seconds>", "give up (and cancel the job) after this long")
    .option("--json", "print only the result as JSON on stdout");
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
