/**
 * Who may use the proxy. The default is "requests made by pages of this site": a proxy that
 * anyone can call spends its owner's credits on strangers' jobs.
 */
import { originOf } from "@kontext-sdk/schema/protocol";

/** Decides whether a request may use the proxy: `true` lets it through, `false` refuses it
 * (403), a `Response` is sent back as is (for your own 401 or redirect). Must not read the body. */
export type AuthorizeRequest = (request: Request) => boolean | Response | Promise<boolean | Response>;

export interface SameOriginOptions {
  /** Extra origins allowed besides the proxy's own, e.g. `["https://app.example.com"]` when the
   * proxy sits behind a reverse proxy and sees an internal URL. Exact `scheme://host[:port]` strings. */
  allowedOrigins?: readonly string[];
  /**
   * The URL browsers reach the proxy at. When it or `allowedOrigins` is set, `Origin` is compared with
   * them only, never with an origin built from the request's `Host`, which a DNS-rebound page controls.
   */
  publicUrl?: string;
}

/** Why the same-origin check refused a request. */
export type SameOriginRefusal = "cross_site" | "origin_not_allowed" | "no_browser_headers";

/**
 * Undefined when a browser says the request comes from a page of the proxy's own origin, else why not:
 * - a `Sec-Fetch-Site` header other than `same-origin` refuses the request (`cross_site`);
 * - an `Origin` header must equal one of the trusted origins (`origin_not_allowed`): `publicUrl`'s
 *   origin and `allowedOrigins` when either is set, else the request's own origin;
 * - with no `Origin` (browsers leave it out of same-origin GETs), `Sec-Fetch-Site: same-origin` is required;
 * - a request with neither header (curl, a server, an old browser) is refused (`no_browser_headers`).
 */
export function sameOriginRefusal(request: Request, options: SameOriginOptions = {}): SameOriginRefusal | undefined {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return "cross_site";
  const origin = request.headers.get("origin");
  if (origin !== null) {
    // "null" (sandboxed frames, file://) never matches: it is not an origin anyone can vouch for.
    return origin !== "null" && trustedOrigins(request, options).includes(origin) ? undefined : "origin_not_allowed";
  }
  return site === "same-origin" ? undefined : "no_browser_headers";
}

function trustedOrigins(request: Request, options: SameOriginOptions): string[] {
  const configured = [originOf(options.publicUrl), ...(options.allowedOrigins ?? [])].filter(
    (origin): origin is string => origin !== undefined,
  );
  if (configured.length > 0) return configured;
  const own = originOf(request.url);
  return own ? [own] : [];
}

/**
 * True when a browser says the request comes from a page of the proxy's own origin (see
 * {@link sameOriginRefusal} for the rules). Both headers are set by browsers and cannot be changed by
 * page scripts, so this stops other websites and casual hot-linking. It is not authentication: a
 * non-browser client can send any header it likes. Combine it with a session check when jobs cost money.
 */
export function isSameOriginRequest(request: Request, options: SameOriginOptions = {}): boolean {
  return sameOriginRefusal(request, options) === undefined;
}

/** The default `authorize`: {@link isSameOriginRequest} with the given options. */
export function sameOrigin(options: SameOriginOptions = {}): AuthorizeRequest {
  return (request) => isSameOriginRequest(request, options);
}
