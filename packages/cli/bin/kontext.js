#!/usr/bin/env node
// The `kontext` command. A committed file rather than dist/bin.js itself, so that installing the
// workspace before anything is built links a bin that exists (pnpm warns about a missing target).
import "../dist/bin.js";
