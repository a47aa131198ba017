/**
 * Who may use the proxy. The default is "requests made by pages of this site": a proxy that
 * anyone can call spends its owner's credits on strangers' jobs.
 */

/** Decides whether a request may use the proxy: `true` lets it through, `false` refuses it
 * (403), a `Response` is sent back as is (for your own 401 or redirect). Must not read the body. */
export type AuthorizeRequest = (request: Request) => boolean | Response | Promise<boolean | Response>;

export interface SameOriginOptions {
  /** Extra origins allowed besides the proxy's own, e.g. `["https://app.example.com"]` when the
   * proxy sits behind a reverse proxy and sees an internal URL. Exact `scheme://host[:port]` strings. */
  allowedOrigins?: readonly string[];
}

/**
 * True when a browser says the request comes from a page of the proxy's own origin:
 * - a `Sec-Fetch-Site` header other than `same-origin` refuses the request;
 * - an `Origin` header must equal the proxy request's own origin (or one of `allowedOrigins`);
 * - with no `Origin` (browsers leave it out of same-origin GETs), `Sec-Fetch-Site: same-origin` is required;
 * - a request with neither header (curl, a server, an old browser) is refused.
 *
 * Both headers are set by browsers and cannot be changed by page scripts, so this stops other
 * websites and casual hot-linking. It is not authentication: a non-browser client can send any
 * header it likes. Combine it with a session check when jobs cost money.
 */
export function isSameOriginRequest(request: Request, options: SameOriginOptions = {}): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return false;
  const origin = request.headers.get("origin");
  if (origin !== null) {
    let own: string;
    try {
      own = new URL(request.url).origin;
    } catch {
      return false;
    }
    // "null" (sandboxed frames, file://) never matches: it is not an origin anyone can vouch for.
    return origin !== "null" && (origin === own || (options.allowedOrigins ?? []).includes(origin));
  }
  return site === "same-origin";
}

/** The default `authorize`: {@link isSameOriginRequest} with the given options. */
export function sameOrigin(options: SameOriginOptions = {}): AuthorizeRequest {
  return (request) => isSameOriginRequest(request, options);
}
