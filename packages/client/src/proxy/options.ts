/** The proxy's options and the few constants callers may want to read. */
import { type EndpointId, INPUT_LIMITS } from "@kontext-sdk/schema";
import { FAL_HEADERS } from "@kontext-sdk/schema/protocol";
import type { AllowedHosts } from "./allowed-hosts.js";
import type { AuthorizeRequest } from "./authorize.js";
import type { Operation } from "./operations.js";
import type { ProxyRefusalReason } from "./refusal.js";

/** The header fal's clients use to name the real URL when they talk to a proxy. */
export const TARGET_URL_HEADER = FAL_HEADERS.targetUrl;

/** 10 MiB, the spec's bound (`INPUT_LIMITS.maxBodyBytes`, the mock's cap too; fal's own limit, DECISIONS row 48). */
export const DEFAULT_MAX_BODY_BYTES: number = INPUT_LIMITS.maxBodyBytes;

/** 60 s: how long a queue call (submit, status, result, cancel) may take to answer. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
/** 5 min: how long a sync run may take to answer (it holds the connection for the whole generation). */
export const DEFAULT_RUN_TIMEOUT_MS = 300_000;
/** 2 min: how long a streamed answer (the status stream, a result) may stay silent before it is cut. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;

/** 8 KiB: an upload initiate body is `{content_type, file_name}`, a few hundred bytes at most. */
export const DEFAULT_MAX_INITIATE_BYTES = 8 * 1024;

/** Storage uploads through the proxy (the `storage` option). */
export interface ProxyStorageOptions {
  /**
   * Base URL of the storage (REST) host the initiate goes to. Default `STORAGE_BASE_URL`
   * (`https://rest.fal.ai`); required when `target` is not fal's queue host, so a gateway's token is
   * never sent to fal's storage host unasked (the client makes the same rule for `storageBaseUrl`).
   */
  target?: string;
  /** Largest initiate body accepted, in bytes; bigger ones get 413. Default 8 KiB. */
  maxInitiateBytes?: number;
}

/** Where the proxy sends requests. `sync: false` (or leaving it out of an object) disables sync runs. */
export interface ProxyTarget {
  /** Base URL of the queue API, e.g. `https://queue.fal.run` or a fal-compatible gateway. */
  queue: string;
  /** Base URL of the synchronous API, e.g. `https://fal.run`; omit or `false` to refuse sync runs. */
  sync?: string | false;
}

export interface KontextProxyOptions {
  /**
   * The server's fal key (or gateway token), or a function returning it, called per request (after
   * `authorize`) with that request, so keys can rotate or differ by tenant.
   * Default: `FAL_KEY`, else `FAL_KEY_ID:FAL_KEY_SECRET`, from `process.env`.
   */
  credentials?: string | ((request: Request) => string | undefined | Promise<string | undefined>);
  /** `Authorization` scheme sent upstream: `Key` for fal (default), `Bearer` for gateways. */
  authScheme?: "Key" | "Bearer";
  /**
   * Where requests really go. Default `{ queue: "https://queue.fal.run", sync: "https://fal.run" }`.
   * A string is a queue base URL (sync runs are then refused unless you pass `{ queue, sync }`).
   * `x-fal-target-url` may name fal's own hosts or these bases; either way the request is sent here,
   * so fal's hosts are effectively mapped onto your target (a gateway, or a mock server in tests).
   */
  target?: string | ProxyTarget;
  /** Endpoint ids that may be submitted or run. Default: all six Kontext endpoints of the spec. */
  allow?: readonly EndpointId[];
  /**
   * Who may use the proxy. Default: same-origin browser requests only (see `isSameOriginRequest`),
   * which refuses requests that carry neither `Origin` nor `Sec-Fetch-Site`. Plug your session check here.
   */
  authorize?: AuthorizeRequest;
  /**
   * Origins the default `authorize` accepts. When this or `publicUrl` is set, `Origin` is compared with
   * them only, never with the request's own `Host` (ignored when you pass your own `authorize`).
   */
  allowedOrigins?: readonly string[];
  /**
   * Host names the proxy answers for (the `Host` of the request), like Vite's `server.allowedHosts`:
   * a DNS-rebinding page arrives with its own name as `Host`. `localhost`, `*.localhost` and IP addresses
   * are always allowed, and so are the hosts of `publicUrl` and `allowedOrigins`; a name starting with a
   * dot (`.example.com`) allows its subdomains too. `true` turns the check off. Applies with any `authorize`.
   */
  allowedHosts?: AllowedHosts;
  /**
   * Called whenever the proxy answers on its own (a refusal, or a 5xx of its own) with the reason code
   * that is also in the answer's body. Default: a `console.warn` the first time each reason occurs.
   */
  onRefused?: (reason: ProxyRefusalReason, request: Request, answer: { status: number }) => void;
  /** How long a queue call may take to answer before the caller gets 504, in ms. Default 60 s. */
  upstreamTimeoutMs?: number;
  /** How long a sync run may take to answer before the caller gets 504, in ms. Default 5 min. */
  runTimeoutMs?: number;
  /** How long a streamed answer (status stream, result) may stay silent before it is cut, in ms. Default 2 min. */
  streamIdleTimeoutMs?: number;
  /**
   * A second check once the proxy knows what the request asks for (after `authorize`, before the body is
   * read or upstream called): per-endpoint rules, quotas, or, with `onSubmitted`, letting only the user
   * who submitted a job see its status and result or cancel it. Same answers as `authorize`.
   */
  authorizeOperation?: (operation: Operation, request: Request) => boolean | Response | Promise<boolean | Response>;
  /**
   * Called when upstream has accepted a queue submit, with its request id, before the answer goes back:
   * record who owns the job. If it throws, the error goes to `onError` and the answer still goes back
   * (the job exists either way; hiding its id would only lose it).
   */
  onSubmitted?: (requestId: string, request: Request) => void | Promise<void>;
  /**
   * Lets browsers start uploads to fal's storage through the proxy (`client.storage.upload`, and the
   * client's automatic upload of large binary images). Off by default: an initiate is then refused with
   * 403 `storage_not_allowed`. When on, the proxy serves only the initiate (`POST /storage/upload/initiate`
   * and `initiate-multipart`), with the server's key and a body of `{content_type, file_name}` under
   * `maxInitiateBytes`; the answer's signed `upload_url` lets the browser `PUT` the bytes straight to
   * fal's CDN, so no file ever passes through the proxy and the key never reaches the browser.
   */
  storage?: boolean | ProxyStorageOptions;
  /** Largest request body accepted, in bytes; bigger ones get 413. Default 10 MiB (the spec's bound). */
  maxBodyBytes?: number;
  /** The `fetch` used to call upstream. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * The path the proxy is mounted at, e.g. `/api/fal/proxy`. Needed only to read direct paths
   * unambiguously (`{basePath}/fal-ai/flux-pro/...`); by default it is found from the path itself.
   */
  basePath?: string;
  /** The URL browsers reach the proxy at, used in rewritten `status_url`s (default: from the request). */
  publicUrl?: string;
  /** A webhook URL the proxy adds (`fal_webhook`) to every queue submit. */
  webhookUrl?: string;
  /**
   * Whether callers may choose their own `fal_webhook`. Default `false`: fal would POST results to any
   * URL a browser names. A function can vet the URL.
   */
  allowClientWebhooks?: boolean | ((url: string, request: Request) => boolean | Promise<boolean>);
  /**
   * Called with unexpected errors (a throwing `authorize` or `credentials`, an unreachable upstream)
   * before the caller gets a generic 500/502. For your logs: the proxy redacts the key first (in any form, from
   * the message, stack, body and `cause` chain, as the client does for its own errors), since a fetch error may
   * quote it. An error whose text cannot be rewritten arrives as a `KontextProxyReportedError` with its
   * redacted text. Anything else a hook of yours attaches to an error is yours to scrub.
   */
  onError?: (error: unknown, request: Request) => void;
}

/** A web-standard request handler. */
export type KontextProxyHandler = (request: Request) => Promise<Response>;
