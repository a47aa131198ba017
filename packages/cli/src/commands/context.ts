import type { GlobalFlags } from "../credentials.js";
import type { CliIO } from "../io.js";

/** What every command action receives from the program. */
export interface CommandContext {
  io: CliIO;
  globals: GlobalFlags;
  /** The arguments as given, to show the same command with a real key in the embedded-mode notice. */
  argv: readonly string[];
  /** Tells the program which `host:port` the command talks to, so a network error can name it. */
  connected?: (host: string) => void;
}

/** Words quoted so that a person can paste them back into a POSIX shell. */
export function shellWords(words: readonly string[]): string {
  return words
    .map((word) => {
      if (/^[\w@%+=:,./-]+$/.test(word)) return word;
      if (!/["$`\\!]/.test(word)) return `"${word}"`;
      return `'${word.replace(/'/g, `'\\''`)}'`;
    })
    .join(" ");
}

/** The flags that change where and how results are written. */
export interface OutputFlags {
  out?: string;
  json?: boolean;
}
