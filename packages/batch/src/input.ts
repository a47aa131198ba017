/**
 * Reading jobs: JSONL (one `{ id, endpoint, input }` per line) or CSV (a header row; `id`, `endpoint`
 * and the input's fields as columns), or any iterable of jobs. Every job is checked before anything
 * is sent, so a typo on line 9,000 is found at once, not after eight thousand paid jobs.
 */
import { readFile } from "node:fs/promises";
import { type EndpointId, INPUT_DEFAULTS, INPUT_RANGES, type InputOf, validateInput } from "@kontext-sdk/schema";
import type { JobError } from "./errors.js";

/** One job of a batch. `id` names its files and its journal records, so it must be unique. */
export interface BatchJob<E extends EndpointId = EndpointId> {
  id: string;
  endpoint: E;
  input: InputOf<E>;
}

/** A line that was refused, with where it is and what is wrong. */
export interface InputProblem {
  /** 1-based line in the file (the item's position, from 1, for an iterable). */
  line: number;
  /** The job id, when the line had a usable one. */
  id?: string;
  /** The field at fault: `id`, `endpoint`, `input.prompt`, `input.image_urls[0]`... (`line` for unreadable lines). */
  field: string;
  rule: string;
  message: string;
}

export interface ReadJobsResult {
  jobs: BatchJob[];
  /** 1-based line of each job in `jobs`, same order. */
  lines: number[];
  problems: InputProblem[];
}

export interface ReadJobsOptions {
  /** Used for lines (or CSV rows) that name no endpoint. */
  endpoint?: EndpointId;
  /** `jsonl` or `csv`; by default from the file name (`.csv`), else JSONL. */
  format?: "jsonl" | "csv";
}

/** Ids name files, so they are kept to characters every file system accepts. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Reads and checks a JSONL or CSV file. */
export async function readJobsFile(path: string, options: ReadJobsOptions = {}): Promise<ReadJobsResult> {
  const text = await readFile(path, "utf8");
  const format = options.format ?? (/\.csv$/i.test(path) ? "csv" : "jsonl");
  return format === "csv" ? parseCsvJobs(text, options) : parseJsonlJobs(text, options);
}

/** Checks JSONL text: blank lines are skipped, every other line must be one JSON object. */
export function parseJsonlJobs(text: string, options: ReadJobsOptions = {}): ReadJobsResult {
  const items: { line: number; value: unknown }[] = [];
  const problems: InputProblem[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    try {
      items.push({ line, value: JSON.parse(raw) });
    } catch (error) {
      problems.push({ line, field: "line", rule: "json", message: `line ${line} is not JSON: ${(error as Error).message}` });
    }
  });
  const checked = checkJobs(items, options);
  return { ...checked, problems: [...problems, ...checked.problems].sort((a, b) => a.line - b.line) };
}

/**
 * Checks CSV text (RFC 4180: quoted fields may hold commas, quotes and newlines). Columns other than
 * `id` and `endpoint` are input fields; empty cells are left out, numeric and boolean fields are
 * converted, and `image_urls` is a JSON array or URLs separated by `|`.
 */
export function parseCsvJobs(text: string, options: ReadJobsOptions = {}): ReadJobsResult {
  const rows = parseCsv(text);
  const header = rows.shift();
  if (!header) return { jobs: [], lines: [], problems: [] };
  const names = header.cells.map((c) => c.trim());
  const items = rows
    .filter((row) => row.cells.some((c) => c.trim() !== ""))
    .map((row) => {
      const input: Record<string, unknown> = {};
      const item: Record<string, unknown> = { input };
      names.forEach((name, i) => {
        const cell = row.cells[i] ?? "";
        if (name === "id" || name === "endpoint") item[name] = cell.trim() || undefined;
        else if (cell !== "") input[name] = csvValue(name, cell);
      });
      return { line: row.line, value: item };
    });
  return checkJobs(items, options);
}

/** Checks jobs handed over in code (an array, a generator). Positions count from 1. */
export function checkJobs(items: Iterable<{ line: number; value: unknown }>, options: ReadJobsOptions = {}): ReadJobsResult {
  const jobs: BatchJob[] = [];
  const lines: number[] = [];
  const problems: InputProblem[] = [];
  const seen = new Map<string, number>();
  for (const { line, value } of items) {
    const checked = checkJob(value, line, options.endpoint);
    if (!checked.ok) {
      problems.push(...checked.problems);
      continue;
    }
    const first = seen.get(checked.job.id);
    if (first !== undefined) {
      const message = `line ${line}: id ${checked.job.id} is already used on line ${first}`;
      problems.push({ line, id: checked.job.id, field: "id", rule: "unique", message });
      continue;
    }
    seen.set(checked.job.id, line);
    jobs.push(checked.job);
    lines.push(line);
  }
  return { jobs, lines, problems };
}

/** Numbers the items of an iterable from 1, for `checkJobs`. */
export function* numbered(values: Iterable<unknown>): Iterable<{ line: number; value: unknown }> {
  let line = 0;
  for (const value of values) yield { line: ++line, value };
}

type Checked = { ok: true; job: BatchJob } | { ok: false; problems: InputProblem[] };

function checkJob(value: unknown, line: number, defaultEndpoint: EndpointId | undefined): Checked {
  const problem = (field: string, rule: string, message: string, id?: string): Checked => ({
    ok: false,
    problems: [{ line, ...(id ? { id } : {}), field, rule, message: `line ${line}: ${message}` }],
  });
  if (!value || typeof value !== "object" || Array.isArray(value))
    return problem("line", "type", "expected an object { id, endpoint, input }");
  const { id: rawId, endpoint: rawEndpoint, input } = value as { id?: unknown; endpoint?: unknown; input?: unknown };
  const id = typeof rawId === "number" && Number.isInteger(rawId) ? String(rawId) : rawId;
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    const got = id === undefined ? "it is missing" : `got ${JSON.stringify(id)}`;
    return problem(
      "id",
      "pattern",
      `id must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit (${got})`,
    );
  }
  const endpoint = rawEndpoint ?? defaultEndpoint;
  if (!input || typeof input !== "object" || Array.isArray(input))
    return problem("input", "type", "input must be an object of the endpoint's fields", id);
  const checked = validateInput(String(endpoint), input);
  if (!checked.ok) {
    return {
      ok: false,
      problems: checked.issues.map((issue) => {
        const field = issue.field === "endpoint" ? "endpoint" : issue.field ? `input.${issue.field}` : "input";
        return { line, id, field, rule: issue.rule, message: `line ${line}: ${issue.message}` };
      }),
    };
  }
  return { ok: true, job: { id, endpoint: endpoint as EndpointId, input: input as InputOf<EndpointId> } };
}

/** Checked jobs from a JSONL or CSV file (by path) or from jobs in code: what a batch starts from in either mode. */
export async function readJobs(jobs: string | Iterable<unknown>, options: ReadJobsOptions = {}): Promise<ReadJobsResult> {
  return typeof jobs === "string" ? readJobsFile(jobs, options) : checkJobs(numbered(jobs), options);
}

/** A problem as the typed failure written to `results.jsonl`. */
export const problemError = (p: InputProblem): JobError => ({
  reason: "invalid_input",
  message: p.message,
  field: p.field,
  line: p.line,
});

const NUMERIC_FIELDS = new Set<string>(Object.keys(INPUT_RANGES));
const BOOLEAN_FIELDS = new Set<string>(
  Object.entries(INPUT_DEFAULTS)
    .filter(([, v]) => typeof v === "boolean")
    .map(([k]) => k),
);

function csvValue(name: string, cell: string): unknown {
  const text = cell.trim();
  if (NUMERIC_FIELDS.has(name) && text !== "" && Number.isFinite(Number(text))) return Number(text);
  if (BOOLEAN_FIELDS.has(name) && /^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  if (name === "image_urls") {
    if (text.startsWith("[")) {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    return text
      .split("|")
      .map((u) => u.trim())
      .filter(Boolean);
  }
  return cell;
}

interface CsvRow {
  /** The line the row starts on. */
  line: number;
  cells: string[];
}

/** RFC 4180 rows; a quoted cell may span lines, so each row keeps the line it started on. */
export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    rows.push({ line: rowLine, cells });
    cells = [];
    cell = "";
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "\n") line++;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell === "") quoted = true;
    else if (char === ",") {
      cells.push(cell);
      cell = "";
    } else if (char === "\n") {
      endRow();
      rowLine = line;
    } else if (char !== "\r") cell += char;
  }
  if (cell !== "" || cells.length > 0) endRow();
  return rows;
}
