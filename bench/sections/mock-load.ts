/**
 * Section 4: the mock server under load, in a process of its own.
 *  a) throughput of status polls on loopback: N concurrent keep-alive request loops for a few seconds
 *     (autocannon-style), against jobs that stay queued — once through node:http with a keep-alive agent
 *     (a light generator, the headline figure), once through fetch (undici, heavier per request);
 *  b) memory (heapUsed / rss, after a full GC) of the server process before and with 1,000 concurrent
 *     jobs, then with a status stream open on each of them.
 */
import http from "node:http";
import { startMockProcess } from "../lib/mock-process.js";
import { mb, percentile, round, sleep, table, verdict } from "../lib/util.js";

const CONNECTIONS = 50;
const SECONDS = 5;
const WARMUP_SECONDS = 1;
const JOBS = 1_000;
const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";
const headers = { Authorization: "Key bench", "content-type": "application/json" };

async function submit(url: string, i: number): Promise<string> {
  const res = await fetch(`${url}/${ENDPOINT}`, {
    method: "POST",
    headers,
    body: JSON.stringify({ prompt: `load ${i}`, seed: i }),
  });
  const body = (await res.json()) as { request_id: string };
  if (!res.ok || !body.request_id) throw new Error(`submit failed: ${res.status} ${JSON.stringify(body)}`);
  return body.request_id;
}

/** One GET, its body drained: through the global fetch, or through node:http with a keep-alive agent (lighter). */
type Getter = (url: string) => Promise<number>;
const viaFetch: Getter = async (url) => {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
};
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
const viaHttp: Getter = (url) =>
  new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      })
      .on("error", reject);
  });

async function load(get: Getter, statusUrls: string[], seconds: number) {
  const latencies: number[] = [];
  let errors = 0;
  let count = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async (k: number) => {
    let i = k;
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        if ((await get(statusUrls[i++ % statusUrls.length]!)) !== 202) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
      count++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, k) => loop(k)));
  const elapsed = (performance.now() - t0) / 1000;
  return { requests: count, errors, rps: count / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function mockLoadSection() {
  // Long steps: every job stays IN_QUEUE for the whole section.
  const server = await startMockProcess({ auth: "any", timeline: { queueSteps: 5, progressSteps: 5, stepMs: 600_000 } });
  try {
    const { url } = server;
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => submit(url, i)));
    const statusUrls = ids.map((id) => `${url}/fal-ai/flux-pro/requests/${id}/status`);
    const runs: Record<string, Awaited<ReturnType<typeof load>> & { serverCpu: number }> = {};
    for (const [name, get] of [
      ["node:http keep-alive agent", viaHttp],
      ["fetch (undici) keep-alive", viaFetch],
    ] as const) {
      await load(get, statusUrls, WARMUP_SECONDS);
      const cpu0 = (await server.ask("cpu")).cpu as NodeJS.CpuUsage;
      const t0 = performance.now();
      const r = await load(get, statusUrls, SECONDS);
      const wall = performance.now() - t0;
      const cpu1 = (await server.ask("cpu")).cpu as NodeJS.CpuUsage;
      runs[name] = { ...r, serverCpu: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1000 / wall };
    }
    table(`4a. Mock server throughput: status polls, ${CONNECTIONS} concurrent keep-alive connections, ${SECONDS} s`, [
      ["load generator", "requests", "errors", "req/s", "p50 ms", "p99 ms", "server CPU"],
      ...Object.entries(runs).map(([name, r]) => [
        name,
        r.requests,
        r.errors,
        Math.round(r.rps),
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        `${Math.round(r.serverCpu * 100)}%`,
      ]),
    ]);
    const best = Math.max(...Object.values(runs).map((r) => r.rps));
    console.log(`target: ≥ 5,000 req/s: ${Math.round(best)} → ${verdict(best >= 5000)}`);
    await server.close();

    // Memory: a fresh server process, then 1,000 jobs, then a status stream on each.
    const mem = await startMockProcess({ auth: "any", timeline: { queueSteps: 5, progressSteps: 5, stepMs: 600_000 } });
    let memory: Record<string, unknown>;
    try {
      const base = await mem.ask("memory");
      const jobIds: string[] = [];
      for (let i = 0; i < JOBS; i += 50) {
        jobIds.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => submit(mem.url, i + k)))));
      }
      const withJobs = await mem.ask("memory");
      const controller = new AbortController();
      const streams = await Promise.all(
        jobIds.map((id) =>
          fetch(`${mem.url}/fal-ai/flux-pro/requests/${id}/status/stream`, { headers, signal: controller.signal }).then(
            async (res) => {
              // Read the first event so the stream is really open on the server.
              const reader = res.body!.getReader();
              await reader.read();
              return reader;
            },
          ),
        ),
      );
      await sleep(200);
      const withStreams = await mem.ask("memory");
      controller.abort();
      await Promise.allSettled(streams.map((r) => r.cancel()));
      const delta = (a: { heapUsed: number; rss: number }) => ({ heapUsed: a.heapUsed - base.heapUsed, rss: a.rss - base.rss });
      const dJobs = delta(withJobs);
      const dStreams = delta(withStreams);
      table(`4b. Mock server memory (after GC), ${JOBS.toLocaleString("en")} concurrent jobs`, [
        ["state", "heapUsed", "rss", "Δ heapUsed", "Δ rss", "per job (heap)"],
        ["idle", mb(base.heapUsed), mb(base.rss), "", "", ""],
        [
          `${JOBS} jobs queued`,
          mb(withJobs.heapUsed),
          mb(withJobs.rss),
          mb(dJobs.heapUsed),
          mb(dJobs.rss),
          `${(dJobs.heapUsed / JOBS / 1024).toFixed(2)} kB`,
        ],
        [
          `+ ${JOBS} open status streams`,
          mb(withStreams.heapUsed),
          mb(withStreams.rss),
          mb(dStreams.heapUsed),
          mb(dStreams.rss),
          `${(dStreams.heapUsed / JOBS / 1024).toFixed(2)} kB`,
        ],
      ]);
      memory = {
        jobs: JOBS,
        idle: { heapUsed: base.heapUsed, rss: base.rss },
        withJobs: { heapUsed: withJobs.heapUsed, rss: withJobs.rss, delta: dJobs },
        withStreams: { heapUsed: withStreams.heapUsed, rss: withStreams.rss, delta: dStreams },
      };
    } finally {
      await mem.close();
    }
    return {
      throughput: {
        connections: CONNECTIONS,
        seconds: SECONDS,
        runs: Object.fromEntries(
          Object.entries(runs).map(([name, r]) => [
            name,
            {
              requests: r.requests,
              errors: r.errors,
              rps: Math.round(r.rps),
              p50Ms: round(r.p50),
              p99Ms: round(r.p99),
              serverCpu: round(r.serverCpu),
            },
          ]),
        ),
        rps: Math.round(best),
        target: { min: 5000, pass: best >= 5000 },
      },
      memory,
    };
  } finally {
    await server.close();
  }
}
