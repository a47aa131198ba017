/**
 * pnpm bench — figures, not tests. Each section prints a table next to its reference (raw fetch,
 * @fal-ai/client, openapi-fetch) and the run writes bench/results.json with the machine noted.
 *
 *   pnpm bench                      every section, the build section last
 *   pnpm bench --skip-build         everything but `pnpm build` cold vs warm
 *   pnpm bench --only <section>     one of: bundle, overhead, queue, mock, batch, upload, build
 *   pnpm bench --no-prebuild        measure the packages' dist/ as they are (by default turbo builds them first)
 *   pnpm bench --build-clone        build section in a fresh clone of HEAD (safe while others use this tree)
 */
import { parseArgs } from "node:util";
import { machine, prebuild, writeResults } from "./lib/util.js";
import { bundleSection } from "./sections/bundle.js";

const sections = ["bundle", "overhead", "queue", "mock", "batch", "upload", "build"] as const;
type Section = (typeof sections)[number];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    "skip-build": { type: "boolean", default: false },
    "build-clone": { type: "boolean", default: false },
    "no-prebuild": { type: "boolean", default: false },
  },
});
if (values.only && !sections.includes(values.only as Section)) {
  console.error(`--only expects one of ${sections.join(", ")} (got ${values.only})`);
  process.exit(2);
}
const selected = sections.filter((s) => (values.only ? s === values.only : !(s === "build" && values["skip-build"])));

const runners: Record<Section, () => Promise<unknown>> = {
  bundle: bundleSection,
  overhead: async () => (await import("./sections/overhead.js")).overheadSection(),
  queue: async () => (await import("./sections/queue.js")).queueSection(),
  mock: async () => (await import("./sections/mock-load.js")).mockLoadSection(),
  batch: async () => (await import("./sections/batch.js")).batchSection(),
  upload: async () => (await import("./sections/upload.js")).uploadSection(),
  build: async () => (await import("./sections/build.js")).buildSection({ clone: values["build-clone"] }),
};

const env = machine();
console.log(
  `kontext-sdk bench — ${env.cpus} × ${env.cpuModel}, ${env.memory}, node ${env.node}, ${env.platform}, ${env.date}, load ${env.loadAverage}`,
);
if (env.loadAverage > env.cpus)
  console.warn(`warning: load average ${env.loadAverage} on ${env.cpus} CPUs — timings will be noisy`);
// The upload section runs the built CLI, so it is built too.
if (!values["no-prebuild"] && selected.some((s) => s !== "build")) prebuild(selected.includes("upload") ? ["cli"] : []);
const started = performance.now();
let failed = false;
for (const section of selected) {
  const t0 = performance.now();
  try {
    const figures = await runners[section]();
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    // Each section keeps the date and load of its own run: `--only` reruns one section and leaves the others.
    writeResults({ machine: env, [section]: { ...(figures as object), seconds, date: env.date, loadAverage: env.loadAverage } });
  } catch (e) {
    failed = true;
    console.error(`\nsection ${section} failed: ${(e as Error).stack ?? e}`);
    writeResults({ machine: env, [section]: { error: String((e as Error).message ?? e) } });
  }
}
console.log(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(1)} s; figures in bench/results.json`);
process.exit(failed ? 1 : 0);
