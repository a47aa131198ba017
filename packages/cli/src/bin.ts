#!/usr/bin/env node
import { main } from "./index.js";

// `kontext generate … | head -1` closes the pipe early; the job still finishes (and its files are
// written), so a closed reader is not worth a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

// exitCode rather than process.exit(): pending stdout writes (a big --json document on a pipe) get flushed.
process.exitCode = await main(process.argv.slice(2));
