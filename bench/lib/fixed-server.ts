/**
 * A minimal node:http server in a worker thread that answers every request with the same 202
 * IN_QUEUE status. It runs on its own thread so the client under test has the main one to itself.
 */
import { Worker } from "node:worker_threads";

const source = `
const http = require("node:http");
const { parentPort } = require("node:worker_threads");
const server = http.createServer((req, res) => {
  const id = "req-0000";
  const origin = "http://" + req.headers.host;
  const body = JSON.stringify({
    status: "IN_QUEUE",
    request_id: id,
    queue_position: 3,
    response_url: origin + "/fal-ai/flux-pro/requests/" + id,
    status_url: origin + "/fal-ai/flux-pro/requests/" + id + "/status",
    cancel_url: origin + "/fal-ai/flux-pro/requests/" + id + "/cancel",
  });
  req.resume();
  req.on("end", () => {
    res.writeHead(202, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-fal-request-id": id });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
parentPort.on("message", (m) => { if (m === "close") server.close(() => process.exit(0)); server.closeAllConnections(); });
`;

export async function startFixedServer(): Promise<{ url: string; close(): Promise<void> }> {
  const worker = new Worker(source, { eval: true });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      worker.postMessage("close");
      await worker.terminate();
    },
  };
}
