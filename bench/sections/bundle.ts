/**
 * Section 1: bundle size. The same small user code (bench/bundle/*.ts) bundled by esbuild for the
 * browser, minified, then gzipped (level 9) with node:zlib.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib";
import { build, type Metafile, type Plugin } from "esbuild";
import { benchDir, kb, root, table, verdict } from "../lib/util.js";

interface Case {
  id: string;
  label: string;
  file: string;
  external?: string[];
  needs?: string[];
}

const cases: Case[] = [
  {
    id: "kontext",
    label: "@kontext-sdk/client subscribe, lite (no validation)",
    file: "kontext-subscribe.ts",
    needs: ["client"],
  },
  {
    id: "kontextValidated",
    label: "@kontext-sdk/client subscribe, default (validation on)",
    file: "kontext-subscribe-validated.ts",
    needs: ["client"],
  },
  {
    id: "validateInput",
    label: "@kontext-sdk/schema validateInput alone",
    file: "schema-validate-input.ts",
    needs: ["schema"],
  },
  {
    id: "react",
    label: "@kontext-sdk/react useKontext (react, react-query external)",
    file: "kontext-react.ts",
    external: ["react", "react-dom", "react/jsx-runtime", "@tanstack/react-query"],
    needs: ["client", "react"],
  },
  { id: "fal", label: "@fal-ai/client subscribe", file: "fal-subscribe.ts" },
  { id: "openapiFetch", label: "openapi-fetch alone", file: "openapi-fetch.ts" },
];

export interface BundleFigure {
  label: string;
  minified: number;
  gzip: number;
  brotli: number;
  /** The eight largest inputs of the bundle (bytes of output they account for). */
  largest: { path: string; bytes: number }[];
}

/**
 * Resolves @kontext-sdk/client and @kontext-sdk/schema (with its protocol core) to their TypeScript
 * source, so the bundle's bytes can be traced to files.
 */
const fromSource: Plugin = {
  name: "kontext-source",
  setup(b) {
    const sources: Record<string, string> = {
      "@kontext-sdk/client": "packages/client/src/index.ts",
      "@kontext-sdk/schema": "packages/schema/src/index.ts",
      "@kontext-sdk/schema/protocol": "packages/schema/src/protocol/index.ts",
    };
    b.onResolve({ filter: /^@kontext-sdk\/(client|schema)(\/protocol)?$/ }, (args) =>
      sources[args.path] ? { path: join(root, sources[args.path]!), sideEffects: false } : undefined,
    );
  },
};

/** Our packages by their build output, the way a consumer gets them (the bench sits outside the workspace). */
const workspace: Plugin = {
  name: "kontext-workspace",
  setup(b) {
    b.onResolve({ filter: /^@kontext-sdk\/[a-z-]+$/ }, (args) => {
      const dir = join(root, "packages", args.path.slice("@kontext-sdk/".length));
      // A plugin's answer bypasses package.json, so carry its `sideEffects: false` over (tree-shaking needs it).
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { sideEffects?: boolean };
      return { path: join(dir, "dist/index.js"), sideEffects: pkg.sideEffects === false ? false : undefined };
    });
  },
};

/**
 * The protocol core's SSE parser (`packages/schema/src/protocol/sse.ts`) swapped for a one-line stand-in,
 * on top of `fromSource`: the gzip difference to the same build with the real parser is what reading the
 * status stream's format costs, i.e. how much of the figure is the parser and how much the rest.
 */
const withoutSseParser: Plugin = {
  name: "without-sse-parser",
  setup(b) {
    b.onLoad({ filter: /[\\/]schema[\\/]src[\\/]protocol[\\/]sse\.ts$/ }, () => ({
      contents: "export const createSseParser = (onMessage) => (chunk) => (onMessage({ data: chunk }), 0);",
      loader: "js",
    }));
  },
};

async function measure(c: Case, plugins: Plugin[] = []): Promise<BundleFigure> {
  const result = await build({
    entryPoints: [join(benchDir, "bundle", c.file)],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    external: c.external ?? [],
    // Their dependencies (openapi-fetch) resolve from the packages that declare them.
    nodePaths: [join(root, "packages/react/node_modules"), join(root, "packages/client/node_modules")],
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [...plugins, workspace],
  });
  const code = result.outputFiles[0]!.contents;
  return {
    label: c.label,
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    brotli: brotliCompressSync(code, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).byteLength,
    largest: largest(result.metafile!),
  };
}

function largest(meta: Metafile) {
  const out = Object.values(meta.outputs)[0]!;
  return Object.entries(out.inputs)
    .map(([path, v]) => ({ path: path.replace(/^.*node_modules\//, "").replace(/^\.\.\/\.\.\//, ""), bytes: v.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
}

export async function bundleSection() {
  const figures: Record<string, BundleFigure | { label: string; error: string }> = {};
  for (const c of cases) {
    const missing = (c.needs ?? []).filter((p) => !existsSync(join(root, "packages", p, "dist/index.js")));
    if (missing.length) {
      figures[c.id] = { label: c.label, error: `not built: ${missing.map((p) => `@kontext-sdk/${p}`).join(", ")}` };
      continue;
    }
    try {
      figures[c.id] = await measure(c);
    } catch (e) {
      const first = (e as { errors?: { text: string }[] }).errors?.[0]?.text;
      figures[c.id] = { label: c.label, error: `build failed: ${first ?? (e as Error).message.split("\n")[0]}` };
    }
  }
  const ok = (id: string) => {
    const f = figures[id];
    return f && "gzip" in f ? f : undefined;
  };
  const ours = ok("kontext");
  const fal = ok("fal");
  const react = ok("react");
  const rows: (string | number)[][] = [["bundle", "minified", "gzip", "brotli", "vs @fal-ai/client (gzip)"]];
  for (const c of cases) {
    const f = figures[c.id]!;
    if ("error" in f) rows.push([f.label, f.error, "", "", ""]);
    else rows.push([f.label, kb(f.minified), kb(f.gzip), kb(f.brotli), fal ? `${(f.gzip / fal.gzip).toFixed(3)}×` : "n/a"]);
  }
  table("1. Bundle size (esbuild --bundle --minify, browser, ES2022; gzip -9)", rows);
  const validated = ok("kontextValidated");
  // Issue 13's targets: the default client (validation on) ≤ 7.4 kB gzip and ≤ 0.35 × @fal-ai/client;
  // the lite client ≤ 5 kB.
  const target = (figure: BundleFigure | undefined, limit: number) =>
    figure ? { value: figure.gzip, target: limit, pass: figure.gzip <= limit } : undefined;
  const ratio = (figure: BundleFigure | undefined, limit: number) =>
    figure && fal ? { value: figure.gzip / fal.gzip, target: limit, pass: figure.gzip / fal.gzip <= limit } : undefined;
  const targets = {
    defaultAtMost7_4kB: target(validated, 7.4 * 1024),
    defaultRatioToFalAtMost035: ratio(validated, 0.35),
    liteAtMost5kB: target(ours, 5 * 1024),
  };
  if (fal) {
    const side = (name: string, figure: BundleFigure | undefined) =>
      figure ? `${name} ${kb(figure.gzip)} (${(figure.gzip / fal.gzip).toFixed(2)}×)` : `${name} n/a`;
    console.log(
      `subscribe, gzip: ${side("default", validated)} | ${side("lite", ours)} | @fal-ai/client ${kb(fal.gzip)} (1.00×)`,
    );
  }
  if (targets.defaultAtMost7_4kB)
    console.log(`target: default subscribe ≤ 7.4 kB gzip: ${kb(validated!.gzip)} → ${verdict(targets.defaultAtMost7_4kB.pass)}`);
  if (targets.defaultRatioToFalAtMost035)
    console.log(
      `target: default ≤ 0.35 × @fal-ai/client: ${targets.defaultRatioToFalAtMost035.value.toFixed(3)}× → ${verdict(targets.defaultRatioToFalAtMost035.pass)}`,
    );
  if (targets.liteAtMost5kB)
    console.log(`target: lite subscribe ≤ 5 kB gzip: ${kb(ours!.gzip)} → ${verdict(targets.liteAtMost5kB.pass)}`);
  const validation = ok("validateInput");
  if (validation) console.log(`input validation alone (validateInput + messages): ${kb(validation.gzip)} gzip`);
  if (react && ours) console.log(`the React hook adds ${kb(react.gzip - ours.gzip)} gzip on top of the client`);
  let attribution: BundleFigure["largest"] | undefined;
  let sseParserGzip: number | undefined;
  if (ours) {
    // The same bundle built from source: which files the bytes come from (minified, before gzip), and,
    // with the SSE parser replaced by a stand-in, what the parser costs after gzip.
    const fromSourceFigure = await measure(cases[0]!, [fromSource]).catch(() => undefined);
    attribution = fromSourceFigure?.largest;
    sseParserGzip = fromSourceFigure
      ? await measure(cases[0]!, [withoutSseParser, fromSource])
          .then((f) => fromSourceFigure.gzip - f.gzip)
          .catch(() => undefined)
      : undefined;
    if (sseParserGzip !== undefined)
      console.log(
        `of our subscribe's ${kb(ours.gzip)} gzip, the SSE parser (protocol core, sse.ts) accounts for ${kb(sseParserGzip)}; the rest of our code for ${kb(ours.gzip - sseParserGzip)}`,
      );
    const list = attribution ?? ours.largest;
    console.log(
      `largest inputs of our subscribe bundle (minified bytes): ${list.map((l) => `${l.path} ${kb(l.bytes)}`).join(", ")}`,
    );
  }
  return { figures, targets, attribution, sseParserGzip, reactOnTopGzip: react && ours ? react.gzip - ours.gzip : undefined };
}
