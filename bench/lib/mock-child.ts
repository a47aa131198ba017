/**
 * The mock server in a process of its own (forked by the bench with `--import tsx --expose-gc`), so a
 * load generator in the parent does not share its event loop, and its memory is its own.
 * Messages: {type:"memory"} → {heapUsed, rss} after a full GC; {type:"cpu"} → process.cpuUsage();
 * {type:"reset"} → {uploads: [{size}]} (the stored files, then forgets everything); {type:"close"}.
 */
import { importPackage } from "./util.js";

const options = JSON.parse(process.argv[2] ?? "{}");
const { startMockServer } = await importPackage("mocks", "server");
const server = await startMockServer({ host: "127.0.0.1", port: 0, ...options });

const gc = (globalThis as { gc?: () => void }).gc;
process.on("message", async (m: { type: string; id: number }) => {
  const reply = (body: object) => process.send!({ id: m.id, ...body });
  if (m.type === "memory") {
    gc?.();
    gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    reply({ heapUsed, rss, jobs: server.mock.jobs.size, requests: server.mock.requests.length });
  } else if (m.type === "cpu") {
    reply({ cpu: process.cpuUsage() });
  } else if (m.type === "reset") {
    const uploads = server.mock.uploads.map((file: { size: number }) => ({ size: file.size }));
    server.mock.reset();
    reply({ uploads });
  } else if (m.type === "close") {
    await server.close();
    reply({});
    process.exit(0);
  }
});
process.send!({ id: 0, url: server.url });
