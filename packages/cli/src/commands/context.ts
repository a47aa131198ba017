import type { GlobalFlags } from "../credentials.js";
import type { CliIO } from "../io.js";

/** What every command action receives from the program. */
export interface CommandContext {
  io: CliIO;
  globals: GlobalFlags;
}

/** The flags that change where and how results are written. */
export interface OutputFlags {
  out?: string;
  json?: boolean;
}
