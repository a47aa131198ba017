/**
 * Text that may reach a person or a log: secrets cut out, then shortened. The order matters: a secret
 * straddling the cut would otherwise survive in part, so callers redact first (`safeText` does both).
 */
import { toBase64 } from "./bytes.js";

/** Flattens whitespace to single spaces and cuts to `max` characters, ending in `...` when cut. */
export function truncate(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 3))}...` : flat;
}

/** What a secret is replaced with, everywhere. */
export const REDACTED = "[redacted]";

// Shorter pieces than this are not treated as secrets on their own: cutting every "abc" out of a message
// would mangle it while hiding nothing (the id half of `id:secret` keys is not secret anyway).
const MIN_SECRET_PART = 8;

const base64 = (text: string) => toBase64(new TextEncoder().encode(text));

/**
 * Every form in which `secret` could appear in text a server echoes or a log keeps: as is, each half of an
 * `id:secret` key, URL-encoded, base64 (standard and URL-safe, with and without padding, also of the
 * `Key …`/`Bearer …` header values), and with whitespace flattened (a terminal may fold a key that
 * contains a newline). Longest first, so a longer form is replaced before a shorter one inside it.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>();
  const pieces = [secret, ...secret.split(":"), secret.replace(/\s+/g, " "), secret.replace(/\s+/g, "")];
  for (const piece of pieces) {
    if (piece.length < MIN_SECRET_PART) continue;
    forms.add(piece);
    forms.add(encodeURIComponent(piece));
    for (const wrapped of [piece, `Key ${piece}`, `Bearer ${piece}`]) {
      const encoded = base64(wrapped);
      const unpadded = encoded.replace(/=+$/, "");
      forms.add(encoded);
      forms.add(unpadded);
      forms.add(unpadded.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** `text` with every form of every secret replaced by `[redacted]`. */
export function redact(text: string, secrets: readonly (string | undefined | null)[]): string {
  return redactor(secrets)(text);
}

/**
 * `redact` with the secrets' forms worked out once, for a caller that redacts many strings with the same
 * secrets (the mock's request log: the URL, the query and every header of one request). Most strings hold
 * no form at all, so each form is looked for before the string is split and joined on it.
 */
export function redactor(secrets: readonly (string | undefined | null)[]): (text: string) => string {
  const forms = secrets.flatMap((secret) => (secret ? secretForms(secret) : []));
  return (text) => forms.reduce((out, form) => (out.includes(form) ? out.split(form).join(REDACTED) : out), text);
}

/** Redacts, then truncates: the one way to put untrusted text in a message. */
export const safeText = (text: string, secrets: readonly (string | undefined | null)[], max = 200) =>
  truncate(redact(text, secrets), max);

/**
 * A deep copy of a JSON-like value with every string redacted (for error bodies and issues kept on an
 * error object, which `util.inspect` or `JSON.stringify` would otherwise print in full).
 */
export function redactValue<T>(value: T, secrets: readonly (string | undefined | null)[]): T {
  if (!secrets.some(Boolean)) return value;
  const clean = redactor(secrets);
  const copy = (item: unknown, depth: number): unknown => {
    if (typeof item === "string") return clean(item);
    if (depth > 64 || item === null || typeof item !== "object") return item;
    if (Array.isArray(item)) return item.map((entry) => copy(entry, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(item)) out[key] = copy(entry, depth + 1);
    return out;
  };
  return copy(value, 0) as T;
}

/**
 * Control characters (terminal escapes, NUL, CR) shown as `\u001b`-style escapes: for names and paths
 * that come from outside and are printed to a terminal.
 */
export function escapeControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
