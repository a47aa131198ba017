/**
 * Section 2: call overhead. Sequential status calls on loopback against a server that always answers
 * the same 202 IN_QUEUE JSON: our client.status vs raw fetch vs @fal-ai/client's queue.status.
 * The three run interleaved, round after round, after a warm-up; the figure is the median round.
 */
import { createFalClient } from "@fal-ai/client";
import { startFixedServer } from "../lib/fixed-server.js";
import { importPackage, median, round, table, verdict } from "../lib/util.js";

const CALLS = 2_000;
const WARMUP = 300;
const ROUNDS = 5;
const ENDPOINT = "fal-ai/flux-pro/kontext/text-to-image";
const REQUEST_ID = "req-0000";

type Caller = () => Promise<unknown>;

export async function overheadSection() {
  const server = await startFixedServer();
  try {
    const statusUrl = `${server.url}/fal-ai/flux-pro/requests/${REQUEST_ID}/status`;
    const callers: Record<string, { label: string; call: Caller }> = {
      raw: {
        label: "raw fetch + res.json()",
        call: async () => {
          const res = await fetch(statusUrl, { headers: { Authorization: "Key bench" } });
          if (res.status !== 202) throw new Error(`status ${res.status}`);
          return res.json();
        },
      },
    };
    let oursError: string | undefined;
    try {
      const { createKontextClient } = await importPackage("client");
      const client = createKontextClient({ credentials: "bench", baseUrl: server.url });
      callers.kontext = { label: "@kontext-sdk/client status()", call: () => client.status(ENDPOINT, REQUEST_ID) };
    } catch (e) {
      oursError = (e as Error).message;
    }
    const fal = createFalClient({
      credentials: "bench",
      // Point fal at the local server: same path, loopback origin.
      requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://queue.fal.run", server.url) }),
    });
    callers.fal = {
      label: "@fal-ai/client queue.status()",
      call: () => fal.queue.status(ENDPOINT, { requestId: REQUEST_ID, logs: false }),
    };

    const ids = Object.keys(callers);
    for (const id of ids) {
      const first = (await callers[id]!.call()) as { status?: string };
      if (first?.status !== "IN_QUEUE") throw new Error(`${id}: unexpected answer ${JSON.stringify(first)}`);
      for (let i = 0; i < WARMUP; i++) await callers[id]!.call();
    }
    const perRound: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order each round so no implementation always runs first or last.
      for (const id of [...ids.slice(r % ids.length), ...ids.slice(0, r % ids.length)]) {
        const call = callers[id]!.call;
        const t0 = performance.now();
        for (let i = 0; i < CALLS; i++) await call();
        perRound[id]!.push((performance.now() - t0) / CALLS);
      }
    }
    const msPerCall = Object.fromEntries(ids.map((id) => [id, median(perRound[id]!)]));
    const raw = msPerCall.raw!;
    const rows: (string | number)[][] = [["implementation", "ms/call (median of rounds)", "calls/s", "× raw fetch"]];
    for (const id of ids) {
      rows.push([
        callers[id]!.label,
        msPerCall[id]!.toFixed(4),
        Math.round(1000 / msPerCall[id]!),
        (msPerCall[id]! / raw).toFixed(3),
      ]);
    }
    if (oursError) rows.push(["@kontext-sdk/client status()", oursError, "", ""]);
    table(`2. Call overhead (${CALLS} sequential status calls × ${ROUNDS} rounds, loopback, keep-alive)`, rows);
    const ratio = msPerCall.kontext !== undefined ? msPerCall.kontext / raw : undefined;
    if (ratio !== undefined) console.log(`target: ours ≤ 1.15 × raw fetch: ${ratio.toFixed(3)}× → ${verdict(ratio <= 1.15)}`);
    return {
      calls: CALLS,
      rounds: ROUNDS,
      msPerCall: Object.fromEntries(ids.map((id) => [id, round(msPerCall[id]!, 4)])),
      roundsMs: Object.fromEntries(ids.map((id) => [id, perRound[id]!.map((v) => round(v, 4))])),
      ratioToRaw: Object.fromEntries(ids.map((id) => [id, round(msPerCall[id]! / raw, 3)])),
      target: ratio !== undefined ? { ratio: round(ratio, 3), max: 1.15, pass: ratio <= 1.15 } : { error: oursError },
    };
  } finally {
    await server.close();
  }
}
