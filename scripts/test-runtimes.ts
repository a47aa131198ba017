// `pnpm test:runtimes`: the built packages run a real job on Node 20/22/24, Bun, Deno, workerd and
// Chromium, and the mocks' MSW test file runs on msw 3. The work is in tests/runtimes/run.ts; this
// entry builds what is missing first. `--only=node22,bun,...` runs a subset (names as in the table).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = [
  "packages/client/dist/index.js",
  "packages/client/dist/proxy.js",
  "packages/client/dist/webhooks.js",
  "packages/mocks/dist/server.js",
];
if (!built.every((file) => existsSync(join(root, file)))) {
  console.log("building @kontext-sdk/client and @kontext-sdk/mocks first");
  execFileSync("pnpm", ["turbo", "run", "build", "--filter=@kontext-sdk/client", "--filter=@kontext-sdk/mocks"], {
    cwd: root,
    stdio: "inherit",
  });
}

const { main } = await import("../tests/runtimes/run.js");
const code = await main(process.argv.slice(2));
// Keep-alive sockets of the finished runtimes must not hold the process open.
process.exit(code);
