/**
 * The `Host` check, like Vite's `server.allowedHosts`. A DNS-rebinding page (attacker.example, re-pointed
 * at your server's address) sends `Host: attacker.example` and `Origin: http://attacker.example`, so any
 * check built from `Host` agrees with it; only a list of the names the proxy is really served under
 * tells the two apart. Names nobody else can point at an address are always allowed: `localhost`,
 * `*.localhost` and IP literals (a page at an IP address cannot be rebound).
 */
import { originOf } from "@kontext-sdk/schema/protocol";

/** `true` (any host: no rebinding protection) or the host names allowed; `.example.com` allows subdomains too. */
export type AllowedHosts = true | readonly string[];

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The default list: the hosts of `publicUrl` and `allowedOrigins` (localhost names and IPs always pass). */
export function defaultAllowedHosts(publicUrl: string | undefined, allowedOrigins: readonly string[]): string[] {
  return [publicUrl, ...allowedOrigins]
    .map((url) => originOf(url))
    .filter((origin): origin is string => origin !== undefined)
    .map((origin) => new URL(origin).hostname);
}

/** The host name of a `Host` value or URL host (`example.com:3000` → `example.com`, `[::1]:80` → `[::1]`). */
export function hostnameOf(host: string): string {
  const bracketed = /^\[[^\]]*\]/.exec(host);
  const name = bracketed ? bracketed[0] : (host.split(":")[0] ?? "");
  return name.toLowerCase().replace(/\.$/, "");
}

export function isAllowedHost(hostname: string, allowed: AllowedHosts): boolean {
  if (allowed === true) return true;
  if (hostname === "localhost" || hostname.endsWith(".localhost") || IPV4.test(hostname) || hostname.startsWith("[")) return true;
  return allowed.some((rule) => {
    const name = rule.toLowerCase();
    return name.startsWith(".") ? hostname === name.slice(1) || hostname.endsWith(name) : hostname === name;
  });
}
