// The proxy as Express middleware: toNodeHandler streams request bodies in (the size limit is enforced
// while reading) and responses out (status events are not held back).
import { createKontextProxy, type KontextProxyOptions, toNodeHandler } from "@kontext-sdk/client/proxy";
import express, { type Express } from "express";

export const MOUNT = "/api/fal/proxy";

export function createApp(options: KontextProxyOptions = {}): Express {
  const app = express();
  // Before any body parser: the proxy reads and checks the raw body itself.
  app.use(MOUNT, toNodeHandler(createKontextProxy({ basePath: MOUNT, ...options })));
  app.use(express.json());
  app.get("/", (_req, res) => {
    res.type("text").send("kontext proxy example: POST to /api/fal/proxy");
  });
  return app;
}
