/** Shared test helpers: a mock on a manual clock, request shortcuts and the spec checker. */
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { createKontextMock, createManualClock, type KontextMockOptions } from "../src/index.js";

export const KEY = { authorization: "Key test-key:secret" };
export const JSON_HEADERS = { ...KEY, "content-type": "application/json" };
export const QUEUE = "https://queue.fal.run";
export const T2I = "fal-ai/flux-pro/kontext/text-to-image";

/** Every answer checked by any `setup()` in this test file; each file asserts it stays empty. */
export const violations: Violation[] = [];

export function setup(options: KontextMockOptions = {}, { spec = true } = {}) {
  const clock = createManualClock();
  const mock = createKontextMock({ clock, timeline: { queueSteps: 2, progressSteps: 3, stepMs: 100 }, ...options });
  const checker = specChecker(spec ? violations : []);
  /** `mock.fetch` with every answer checked against the spec. */
  const call = async (path: string, init: RequestInit = {}) => {
    const url = path.startsWith("http") ? path : `${QUEUE}${path.startsWith("/") ? "" : "/"}${path}`;
    const response = await mock.fetch(url, { ...init, headers: { ...KEY, ...(init.headers as Record<string, string>) } });
    await checker.check(url, init.method ?? "GET", response.clone());
    return response;
  };
  const submit = async (input: unknown, endpoint = T2I, query = "") => {
    const r = await call(`/${endpoint}${query}`, {
      method: "POST",
      body: JSON.stringify(input),
      headers: { "content-type": "application/json" },
    });
    return { response: r, body: (await r.json()) as Record<string, any> };
  };
  return { clock, mock, call, submit, checker };
}

// --- spec checking ---------------------------------------------------------------------------

const root = new URL("../../../spec/dist/", import.meta.url);
const queueDoc = JSON.parse(readFileSync(new URL("openapi.json", root), "utf8"));
const syncDoc = JSON.parse(readFileSync(new URL("sync.json", root), "utf8"));

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(queueDoc, "https://kontext.test/openapi.json");
ajv.addSchema(syncDoc, "https://kontext.test/sync.json");

const esc = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

/** A validator for the schema at `pointer` inside one of the two documents. */
export function schemaAt(doc: "openapi.json" | "sync.json", pointer: string) {
  const key = `${doc}#${pointer}`;
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile({ $ref: `https://kontext.test/${key}` });
    compiled.set(key, v);
  }
  return v;
}

export const componentSchema = (name: string) => schemaAt("openapi.json", `/components/schemas/${name}`);

/** The pointer of the JSON schema the spec gives for an operation's answer, or undefined when the status is not documented. */
export function responseSchemaPointer(
  doc: "openapi.json" | "sync.json",
  path: string,
  method: string,
  status: number,
  mediaType = "application/json",
) {
  const d = doc === "openapi.json" ? queueDoc : syncDoc;
  const op = d.paths?.[path]?.[method.toLowerCase()];
  if (!op) return undefined;
  let pointer = `/paths/${esc(path)}/${method.toLowerCase()}/responses/${status}`;
  let response = op.responses?.[String(status)];
  if (!response) return undefined;
  if (response.$ref) {
    pointer = response.$ref.slice(1);
    response = pointer
      .slice(1)
      .split("/")
      .reduce((n: any, k: string) => n?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], d);
  }
  if (!response?.content?.[mediaType]) return undefined;
  return `${pointer}/content/${esc(mediaType)}/schema`;
}

export interface Violation {
  url: string;
  method: string;
  status: number;
  problem: string;
}

/** Checks answers by the spec's operation + status; collects violations instead of throwing. */
export function specChecker(violations: Violation[] = []) {
  let checked = 0;
  /** `basePath` is stripped first, for gateways that mount the API under a prefix. */
  async function check(url: string, method: string, response: Response, basePath = "") {
    const u = new URL(url);
    let path = basePath && u.pathname.startsWith(basePath) ? u.pathname.slice(basePath.length) : u.pathname;
    let doc: "openapi.json" | "sync.json" = "openapi.json";
    if (path.startsWith("/sync/") || u.hostname === "fal.run") {
      doc = "sync.json";
      path = path.replace(/^\/sync/, "");
    }
    if (path.startsWith("/files/")) return; // files are not part of the API spec
    const specPath = path.replace(/\/requests\/[^/]+/, "/requests/{request_id}");
    const fail = (problem: string) => violations.push({ url, method, status: response.status, problem });
    if (specPath.endsWith("/status/stream") && response.status === 200) {
      checked++;
      if (!response.headers.get("content-type")?.startsWith("text/event-stream")) fail("stream is not text/event-stream");
      const text = await response.text().catch(() => "");
      const validate = componentSchema("QueueStatus");
      for (const block of text.split("\n\n").filter(Boolean)) {
        const data = block.replace(/^data: /, "");
        if (!validate(JSON.parse(data))) fail(`event: ${ajv.errorsText(validate.errors)}`);
      }
      return;
    }
    const pointer = responseSchemaPointer(doc, specPath, method, response.status);
    checked++;
    if (!pointer) return fail(`status ${response.status} is not documented for ${method} ${specPath} in ${doc}`);
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail("body is not JSON");
    }
    const validate = schemaAt(doc, pointer);
    if (!validate(body)) fail(ajv.errorsText(validate.errors));
  }
  return {
    check,
    violations,
    get checked() {
      return checked;
    },
  };
}
