#!/usr/bin/env node
import { main } from "./index.js";

// exitCode rather than process.exit(): pending stdout writes (a big --json document on a pipe) get flushed.
process.exitCode = await main(process.argv.slice(2));
