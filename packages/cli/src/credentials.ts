/**
 * Where requests go and with which key: `--key`/`FAL_KEY`, `--base-url` and `--auth-scheme` for
 * fal-compatible gateways, and, with neither a key nor a base URL, the mock server started
 * in-process so that the CLI works out of the box. Every command gets the same kind of client
 * either way, so the embedded default runs exactly the code path a real key does.
 */
import { createKontextClient, type KontextClient } from "@kontext-sdk/client";
import { UsageError } from "./errors.js";
import type { CliIO } from "./io.js";

export type AuthScheme = "Key" | "Bearer";

/** The options every command accepts (commander's program-level options). */
export interface GlobalFlags {
  key?: string;
  baseUrl?: string;
  syncBaseUrl?: string;
  storageBaseUrl?: string;
  authScheme?: AuthScheme;
}

export interface Connection {
  client: KontextClient;
  /** True when the requests go to the in-process mock server. */
  embedded: boolean;
  /** The queue host in use, when it is not fal's own (for resume hints). */
  baseUrl?: string;
  /**
   * True when a storage host is known (fal's with a key, the embedded mock's, or `--storage-base-url`):
   * large local images are then uploaded instead of sent inline.
   */
  canUpload: boolean;
  /** Stops the embedded mock server; a no-op otherwise. */
  close(): Promise<void>;
}

/** A placeholder the embedded mock accepts; it never leaves the machine. */
export const EMBEDDED_KEY = "kontext-embedded-mock";

/** The key from the flag or the environment (fal's own variable names). */
export function resolveKey(flags: GlobalFlags, env: CliIO["env"]): string | undefined {
  if (flags.key) return flags.key;
  if (env.FAL_KEY) return env.FAL_KEY;
  if (env.FAL_KEY_ID && env.FAL_KEY_SECRET) return `${env.FAL_KEY_ID}:${env.FAL_KEY_SECRET}`;
  return undefined;
}

/** Every value in the environment that must never be printed. */
export function secretsIn(flags: GlobalFlags, env: CliIO["env"]): string[] {
  return [flags.key, env.FAL_KEY, env.FAL_KEY_SECRET, resolveKey(flags, env)].filter((s): s is string => Boolean(s));
}

export interface ResolvedTarget {
  key?: string;
  baseUrl?: string;
  syncBaseUrl?: string;
  /** Only when given: a gateway's storage host cannot be guessed (fal's is the client's default). */
  storageBaseUrl?: string;
  authScheme: AuthScheme;
  /** Neither a key nor a base URL: use the embedded mock. */
  embedded: boolean;
}

/** Reads flags and environment into one target; wrong values are usage errors (nothing sent yet). */
export function resolveTarget(flags: GlobalFlags, env: CliIO["env"]): ResolvedTarget {
  const key = resolveKey(flags, env);
  const baseUrl = checkUrl(flags.baseUrl ?? env.KONTEXT_BASE_URL, "--base-url");
  // A gateway (or a `kontext mock` server) serves sync runs under /sync when nothing else is said.
  const syncBaseUrl =
    checkUrl(flags.syncBaseUrl ?? env.KONTEXT_SYNC_BASE_URL, "--sync-base-url") ?? (baseUrl ? `${baseUrl}/sync` : undefined);
  const storageBaseUrl = checkUrl(flags.storageBaseUrl ?? env.KONTEXT_STORAGE_BASE_URL, "--storage-base-url");
  const scheme = flags.authScheme ?? env.KONTEXT_AUTH_SCHEME ?? "Key";
  if (scheme !== "Key" && scheme !== "Bearer") throw new UsageError(`--auth-scheme must be Key or Bearer (got ${scheme})`);
  return {
    ...(key ? { key } : {}),
    ...(baseUrl ? { baseUrl } : {}),
    ...(syncBaseUrl ? { syncBaseUrl } : {}),
    ...(storageBaseUrl ? { storageBaseUrl } : {}),
    authScheme: scheme,
    embedded: !key && !baseUrl,
  };
}

function checkUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL (got ${value})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`${flag} must be an http(s) URL (got ${value})`);
  return value.replace(/\/+$/, "");
}

export interface ConnectOptions {
  /** The command in the embedded-mode notice, as typed (`generate "a red fox"`). */
  example?: string;
  /**
   * What the embedded-mode notice says: `images` for commands that make images (they are
   * placeholders), `lookup` for commands about an existing request id (a fresh mock knows none).
   */
  purpose?: "images" | "lookup";
  /** Told the `host:port` requests go to, so a network error can name it. */
  connected?: (host: string) => void;
  /** The fetch the client makes its calls with (a batch counts them through a meter). */
  fetch?: typeof fetch;
}

/** The queue host fal's own clients use when nothing else is said. */
const FAL_QUEUE_URL = "https://queue.fal.run";

/** `host:port` of a URL, the port spelled out even when it is the scheme's default. */
export function hostAndPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === "https:" ? "443" : "80")}`;
}

/** Opens a connection: a client for the target, after starting the embedded mock when needed. */
export async function connect(flags: GlobalFlags, io: CliIO, options: ConnectOptions = {}): Promise<Connection> {
  const target = resolveTarget(flags, io.env);
  if (!target.embedded) {
    const client = createKontextClient({
      // A function, so the client does not fall back to reading process.env on its own.
      credentials: () => target.key,
      authScheme: target.authScheme,
      ...(target.baseUrl ? { baseUrl: target.baseUrl } : {}),
      ...(target.syncBaseUrl ? { syncBaseUrl: target.syncBaseUrl } : {}),
      ...(target.storageBaseUrl ? { storageBaseUrl: target.storageBaseUrl } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    options.connected?.(hostAndPort(target.baseUrl ?? FAL_QUEUE_URL));
    const canUpload = !target.baseUrl || Boolean(target.storageBaseUrl);
    return { client, embedded: false, canUpload, ...(target.baseUrl ? { baseUrl: target.baseUrl } : {}), close: async () => {} };
  }

  // Loaded only here: a run with a key never pays for the simulator.
  const { startMockServer } = await import("@kontext-sdk/mocks/server");
  const server = await startMockServer({ port: 0, host: "127.0.0.1" });
  options.connected?.(hostAndPort(server.url));
  io.stderr.write(`${embeddedNotice(server.url, options)}\n`);
  const client = createKontextClient({
    credentials: EMBEDDED_KEY,
    authScheme: target.authScheme,
    baseUrl: server.url,
    syncBaseUrl: `${server.url}/sync`,
    // The mock runs fal's upload flow on its own origin.
    storageBaseUrl: server.url,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return { client, embedded: true, canUpload: true, baseUrl: server.url, close: () => server.close() };
}

/**
 * The one line that says the embedded mock is in use. Commands that make images say the images are
 * placeholders and how to get real ones; commands about a request id say why the id is unknown here
 * (each command starts its own empty mock) and how to keep a mock running between commands.
 */
function embeddedNotice(url: string, options: ConnectOptions): string {
  if (options.purpose === "lookup") {
    return `No FAL_KEY set: using a built-in mock server at ${url} that starts empty for this command, so it knows no request ids. To follow jobs across commands, run "kontext mock" in another terminal and pass --base-url http://127.0.0.1:4010 --key any to each command.`;
  }
  const example = options.example || 'generate "a red fox reading a newspaper"';
  return `No FAL_KEY set: using the built-in mock server at ${url}, so the images are placeholders. For real images: FAL_KEY=your-fal-key kontext ${example}`;
}
