/** The options, checked and settled once when the proxy is created. */
import { type EndpointId, endpoints, isEndpointId, QUEUE_BASE_URL, STORAGE_BASE_URL, SYNC_BASE_URL } from "@kontext-sdk/schema";
import { escapeControl, KontextError, redactor, truncate } from "@kontext-sdk/schema/protocol";
import { redactError } from "../errors.js";
import { type AllowedHosts, defaultAllowedHosts } from "./allowed-hosts.js";
import type { HostKind } from "./operations.js";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_INITIATE_BYTES,
  DEFAULT_RUN_TIMEOUT_MS,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  type KontextProxyOptions,
  type ProxyStorageOptions,
  type ProxyTarget,
} from "./options.js";
import type { ProxyRefusalReason } from "./refusal.js";
import { fixedServerKey } from "./server-key.js";

/** An upstream base URL, or one a caller may name in `x-fal-target-url`. */
export interface Base {
  host: HostKind;
  url: URL;
  /** Pathname without a trailing slash ("" for the root). */
  path: string;
}

export interface ProxyConfig {
  options: KontextProxyOptions;
  allowed: ReadonlySet<EndpointId>;
  maxBodyBytes: number;
  authScheme: "Key" | "Bearer";
  allowedHosts: AllowedHosts;
  timeouts: { upstreamMs: number; runMs: number; streamIdleMs: number };
  fetch: typeof fetch;
  /** The mount path without a trailing slash, when configured. */
  basePath: string | undefined;
  queueBase: Base;
  syncBase: Base | undefined;
  /** Where upload initiates go, and their body cap; undefined when `storage` is off. */
  storage: { base: Base; maxInitiateBytes: number } | undefined;
  /** Bases a caller may name in `x-fal-target-url`, longest path first. */
  namedBases: readonly Base[];
  /**
   * Hands an unexpected error to `onError`, redacted of `secrets` (the request's key, once resolved) and of
   * a key that does not depend on the request; a throwing hook is ignored.
   */
  report: (error: unknown, request: Request, secrets?: readonly string[]) => void;
  /** Hands a refusal to `onRefused` (or the default first-time warning); a throwing hook is ignored. */
  refused: (reason: ProxyRefusalReason, request: Request, answer: { status: number }) => void;
}

export const trimSlash = (text: string) => text.replace(/\/+$/, "");

/** An option `createKontextProxy` cannot work with; the message names the option and the rule. */
export class KontextProxyConfigError extends KontextError {
  override name = "KontextProxyConfigError";
}

export function resolveConfig(options: KontextProxyOptions): ProxyConfig {
  const allowed = new Set<EndpointId>();
  for (const id of options.allow ?? (Object.keys(endpoints) as EndpointId[])) {
    if (!isEndpointId(id))
      throw new KontextProxyConfigError(`createKontextProxy: allow lists an unknown endpoint id ${JSON.stringify(id)}`);
    allowed.add(id);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(maxBodyBytes >= 0)) throw new KontextProxyConfigError("createKontextProxy: maxBodyBytes must be a non-negative number");
  const timeouts = {
    upstreamMs: positive("upstreamTimeoutMs", options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS),
    runMs: positive("runTimeoutMs", options.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS),
    streamIdleMs: positive("streamIdleTimeoutMs", options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS),
  };

  const target: ProxyTarget =
    options.target === undefined
      ? { queue: QUEUE_BASE_URL, sync: SYNC_BASE_URL }
      : typeof options.target === "string"
        ? { queue: options.target }
        : options.target;
  const queueBase = toBase("queue", target.queue);
  const syncBase = target.sync ? toBase("sync", target.sync) : undefined;
  // Bases a caller may name in x-fal-target-url. fal's hosts are accepted because @fal-ai/client
  // always names them; they are mapped onto the configured target, never contacted otherwise.
  // The longest path wins so a sync base nested under the queue base (`{mock}/sync`) is found first.
  const namedBases: Base[] = [toBase("queue", QUEUE_BASE_URL), queueBase];
  if (syncBase) namedBases.push(toBase("sync", SYNC_BASE_URL), syncBase);
  const storage = resolveStorage(options.storage, queueBase);
  if (storage) namedBases.push(toBase("storage", STORAGE_BASE_URL), storage.base);
  namedBases.sort((a, b) => b.path.length - a.path.length);

  return {
    options,
    allowed,
    maxBodyBytes,
    authScheme: options.authScheme ?? "Key",
    allowedHosts:
      options.allowedHosts === true
        ? true
        : [...(options.allowedHosts ?? []), ...defaultAllowedHosts(options.publicUrl, options.allowedOrigins ?? [])],
    timeouts,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    basePath: options.basePath === undefined ? undefined : trimSlash(options.basePath),
    queueBase,
    syncBase,
    storage,
    namedBases,
    // The browser only ever sees a generic message; the operator gets the real error here, without the
    // key: a fetch error may quote the Authorization header, and errors end up in logs.
    report: (error, request, secrets = []) => {
      if (!options.onError) return;
      try {
        options.onError(redactReported(error, [...secrets, fixedServerKey(options.credentials)]), request);
      } catch {}
    },
    refused: options.onRefused ? quietly(options.onRefused) : warnOncePerReason(),
  };
}

/** An error that still showed the key after redaction (a read-only message): its redacted text instead. */
export class KontextProxyReportedError extends KontextError {
  override name = "KontextProxyReportedError";
}

/**
 * `error` redacted of `secrets` in place (message, stack, body, cause…, like the client's own errors). A
 * thrown string is redacted too; an error that still shows the key afterwards (a read-only message, a
 * string `cause`) is replaced by its redacted text, so the key never reaches `onError` whatever was thrown.
 */
function redactReported(error: unknown, secrets: readonly (string | undefined)[]): unknown {
  if (!secrets.some(Boolean)) return error;
  const clean = redactor(secrets);
  if (typeof error === "string") return clean(error);
  if (!(error instanceof Error)) return error;
  redactError(error, secrets);
  if (!stillShows(error, clean)) return error;
  return new KontextProxyReportedError(clean(`${error.name}: ${String(error.message)}`));
}

function stillShows(error: unknown, clean: (text: string) => string, depth = 0): boolean {
  if (typeof error === "string") return clean(error) !== error;
  if (!(error instanceof Error) || depth > 8) return false;
  const shown = `${String(error.message)}\n${String(error.stack)}`;
  return clean(shown) !== shown || stillShows(error.cause, clean, depth + 1);
}

function quietly(hook: NonNullable<KontextProxyOptions["onRefused"]>): ProxyConfig["refused"] {
  return (reason, request, answer) => {
    try {
      hook(reason, request, answer);
    } catch {}
  };
}

/**
 * Without `onRefused`, each reason is logged once per proxy: enough for a first set-up to see why it is
 * refused, and an attacker's flood cannot fill the log. The path is escaped and cut, never the key.
 */
function warnOncePerReason(): ProxyConfig["refused"] {
  const seen = new Set<ProxyRefusalReason>();
  return (reason, request, answer) => {
    if (seen.has(reason)) return;
    seen.add(reason);
    const where = truncate(escapeControl(`${request.method} ${request.url}`), 160);
    console.warn(`[kontext proxy] answered ${answer.status} (${reason}) to ${where}; set onRefused to log every refusal`);
  };
}

/**
 * The storage settings, when on. Its host defaults to fal's REST host only while the queue target is
 * fal's own: a proxy in front of a gateway holds the gateway's token, which fal's host must not receive.
 */
function resolveStorage(
  option: boolean | ProxyStorageOptions | undefined,
  queueBase: Base,
): { base: Base; maxInitiateBytes: number } | undefined {
  if (option === undefined || option === false) return undefined;
  const settings: ProxyStorageOptions = option === true ? {} : option;
  const maxInitiateBytes = settings.maxInitiateBytes ?? DEFAULT_MAX_INITIATE_BYTES;
  if (!(maxInitiateBytes >= 0)) {
    throw new KontextProxyConfigError("createKontextProxy: storage.maxInitiateBytes must be a non-negative number");
  }
  if (settings.target === undefined && queueBase.url.origin !== new URL(QUEUE_BASE_URL).origin) {
    throw new KontextProxyConfigError(
      "createKontextProxy: storage needs storage.target when target is not fal's queue host, so your gateway's " +
        `credentials are not sent to fal's storage host (${STORAGE_BASE_URL}) unasked`,
    );
  }
  return { base: toBase("storage", settings.target ?? STORAGE_BASE_URL), maxInitiateBytes };
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new KontextProxyConfigError(`createKontextProxy: ${name} must be a positive number of milliseconds`);
  return value;
}

function toBase(host: HostKind, href: string): Base {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw new KontextProxyConfigError(`createKontextProxy: target ${shown(href)} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KontextProxyConfigError(`createKontextProxy: target ${shown(href)} must be an http(s) URL`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new KontextProxyConfigError(`createKontextProxy: target ${shown(href)} must not have credentials, a query or a hash`);
  }
  return { host, url, path: trimSlash(url.pathname) };
}

/** A target as an error may show it: without user:password (a token put in the URL stays out of logs). */
function shown(href: string): string {
  try {
    const url = new URL(href);
    return JSON.stringify(`${url.protocol}//${url.host}${url.pathname}`);
  } catch {
    return JSON.stringify(truncate(escapeControl(href.replace(/\/\/[^/@]*@/, "//")), 80));
  }
}
