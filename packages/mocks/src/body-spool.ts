/**
 * Reading a request body on the node:http server without holding a large one in memory, the way nginx
 * does with `client_body_buffer_size` and `client_body_temp_path`: the first `BODY_MEMORY_BYTES` of a
 * body stay in memory (every ordinary JSON request is read there, with no file I/O); a longer body goes
 * on into a private temp file while its bytes are counted. A body that passes the cap has its file
 * deleted and is refused, so a 100 MB upload to a JSON endpoint costs the in-memory buffer, not the cap;
 * a body that ends under the cap is read back whole (the handler parses it whole anyway) and its file is
 * removed before the handler sees it. A client that goes away mid-body, a file that cannot be written and
 * the server's `close()` remove the file too.
 */
import type { WriteStream } from "node:fs";
import { type FileHandle, mkdtemp, open, readFile, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";

/**
 * How much of a body is held in memory before the rest goes to a temp file. 1 MiB is a hundred times an
 * ordinary submit (a prompt is at most 10,000 characters), so those never touch the disk, yet small next
 * to the cap (the spec's 10 MiB): a refused chunked body, or a few at once, cost about this much each instead of the cap.
 */
export const BODY_MEMORY_BYTES = 1024 * 1024;

/** A body read whole, or why not: over the cap (`bytes` seen so far), the client left, or the spool failed. */
export type BodyRead =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: "too-large"; bytes: number }
  | { ok: false; reason: "aborted" }
  | { ok: false; reason: "spool-failed" };

/** One body's temp file, in a directory of its own (`mkdtemp`, 0700) so no other user can open or swap it. */
class BodySpool {
  private readonly path: string;
  private removal: Promise<void> | undefined;
  private failure: Error | undefined;
  private failureListener: (() => void) | undefined;

  constructor(
    readonly directory: string,
    private readonly handle: FileHandle,
    private readonly file: WriteStream,
    private readonly forget: (spool: BodySpool) => void,
  ) {
    this.path = join(directory, "body");
    // Always listened to: an unheard write error (disk full) would otherwise take the whole server down.
    file.on("error", (error) => {
      this.failure = error;
      this.failureListener?.();
    });
  }

  /** A new spool, or undefined when the directory or file cannot be made (no space, no permission). */
  static async create(parent: string, forget: (spool: BodySpool) => void): Promise<BodySpool | undefined> {
    let directory: string | undefined;
    try {
      directory = await mkdtemp(join(parent, "kontext-mock-body-"));
      // `wx`: the file is new in our own directory; 0600: only this user may read what a client sent.
      const handle = await open(join(directory, "body"), "wx", 0o600);
      return new BodySpool(directory, handle, handle.createWriteStream(), forget);
    } catch {
      if (directory) await rm(directory, { recursive: true, force: true }).catch(() => {});
      return undefined;
    }
  }

  /** Appends a chunk; false means the file is behind and the sender should wait for `onDrain`. */
  write(chunk: Buffer): boolean {
    return this.file.write(chunk);
  }

  onDrain(listener: () => void): void {
    this.file.once("drain", listener);
  }

  onError(listener: () => void): void {
    this.failureListener = listener;
  }

  /** Finishes the file and reads it back whole; undefined when it could not be written or read. */
  async readBack(): Promise<Buffer | undefined> {
    if (this.failure) return undefined;
    try {
      this.file.end();
      await finished(this.file);
      return await readFile(this.path);
    } catch {
      return undefined;
    }
  }

  /** Closes and deletes the file and its directory; safe to call more than once, from any path. */
  remove(): Promise<void> {
    this.removal ??= this.closeFile()
      .then(() => rm(this.directory, { recursive: true, force: true }))
      .catch(() => {})
      .finally(() => this.forget(this));
    return this.removal;
  }

  private async closeFile(): Promise<void> {
    if (!this.file.closed) {
      await new Promise<void>((resolve) => {
        this.file.once("close", () => resolve());
        this.file.destroy();
      });
    }
    // The stream closes the handle itself; this is for a stream that never got to.
    await this.handle.close().catch(() => {});
  }
}

/** The spools of one server, so `close()` can remove what requests in flight still hold. */
export class BodySpools {
  private readonly active = new Set<BodySpool>();
  private readonly creating = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly parent: string = tmpdir()) {}

  /**
   * A new spool, or undefined when none can be made (or the server is closing). The whole of it, removal
   * after a close included, is what `removeAll` waits for: a close must not resolve while a file made
   * meanwhile is still being deleted.
   */
  async create(): Promise<BodySpool | undefined> {
    if (this.closed) return undefined;
    const creation = this.make();
    this.creating.add(creation);
    try {
      return await creation;
    } finally {
      this.creating.delete(creation);
    }
  }

  private async make(): Promise<BodySpool | undefined> {
    const spool = await BodySpool.create(this.parent, (made) => this.active.delete(made));
    if (!spool) return undefined;
    if (this.closed) {
      // The server closed while the file was being made: nobody else is left to remove it.
      await spool.remove();
      return undefined;
    }
    this.active.add(spool);
    return spool;
  }

  /** Removes every spool still open and any made from now on (the server is closing). */
  async removeAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.creating);
    await Promise.allSettled([...this.active].map((spool) => spool.remove()));
  }
}

/**
 * Reads a request body up to `maxBytes`. A declared `Content-Length` over the cap is refused before
 * reading anything; a body over `BODY_MEMORY_BYTES` is spooled to a temp file, and any body is refused
 * (its spool deleted first) as soon as it passes the cap. The caller drains or cuts off the rest.
 */
export function readBody(req: IncomingMessage, maxBytes: number, spools: BodySpools): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (declared > maxBytes) return Promise.resolve({ ok: false, reason: "too-large", bytes: declared });
  return new BodyReader(req, maxBytes, spools).read();
}

class BodyReader {
  /** Bytes held in memory: the whole body on the fast path, or the few that came while the spool opened. */
  private chunks: Buffer[] = [];
  private held = 0;
  private size = 0;
  private spool: BodySpool | undefined;
  private spooling: Promise<void> | undefined;
  /** Set once the outcome is known: no more bytes are taken, and a spool that opens late is removed. */
  private done = false;
  private settle!: (read: BodyRead) => void;

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    private readonly spools: BodySpools,
  ) {}

  read(): Promise<BodyRead> {
    return new Promise((resolve) => {
      this.settle = resolve;
      this.req.on("data", this.onData);
      this.req.on("end", this.onEnd);
      this.req.on("error", this.onAbort);
      this.req.on("close", this.onAbort);
    });
  }

  private readonly onData = (chunk: Buffer) => {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      void this.stop({ ok: false, reason: "too-large", bytes: this.size });
      return;
    }
    if (this.spool) {
      this.writeToSpool(this.spool, chunk);
      return;
    }
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.held > BODY_MEMORY_BYTES && !this.spooling) this.startSpool();
  };

  private startSpool() {
    // Hold the sender while the file is made; what is already in flight waits in `chunks`.
    this.req.pause();
    this.spooling = this.spools.create().then((spool) => {
      if (!spool) {
        // No temp file (no space, no permission): the body is held in memory up to the cap instead, as it
        // was before spooling, so a developer with a broken TMPDIR still has a working mock.
        this.resumeUnlessDone();
        return;
      }
      this.spool = spool;
      // Refused or abandoned meanwhile: `stop` removes it. Ended meanwhile: `finish` writes what is held.
      if (this.done) return;
      spool.onError(() => void this.stop({ ok: false, reason: "spool-failed" }));
      const waiting = this.chunks;
      this.chunks = [];
      this.held = 0;
      const caughtUp = waiting.reduce((flowing, chunk) => spool.write(chunk) && flowing, true);
      if (caughtUp) this.req.resume();
      else spool.onDrain(() => this.resumeUnlessDone());
    });
  }

  private writeToSpool(spool: BodySpool, chunk: Buffer) {
    if (spool.write(chunk)) return;
    // The disk is behind the socket: let TCP hold the sender rather than this process's memory.
    this.req.pause();
    spool.onDrain(() => this.resumeUnlessDone());
  }

  private resumeUnlessDone() {
    if (!this.done) this.req.resume();
  }

  private readonly onEnd = () => {
    if (this.done) return;
    this.done = true;
    this.detach();
    void this.finish();
  };

  /** `close` before `end` (or an `error`) means the client went away mid-body. */
  private readonly onAbort = () => {
    if (!this.done) void this.stop({ ok: false, reason: "aborted" });
  };

  private async finish() {
    await this.spooling;
    const spool = this.spool;
    if (!spool) {
      // The fast path (or a spool that failed to open after the whole body, all of it held, had come).
      this.settle({ ok: true, bytes: Buffer.concat(this.chunks) });
      return;
    }
    // What came while the spool was opening, when the body ended before it opened.
    for (const chunk of this.chunks) spool.write(chunk);
    this.chunks = [];
    const bytes = await spool.readBack();
    await spool.remove();
    this.settle(bytes ? { ok: true, bytes } : { ok: false, reason: "spool-failed" });
  }

  /** Ends the read early: drops what is held, deletes the spool, then answers (so no file outlives the answer). */
  private async stop(read: BodyRead) {
    if (this.done) return;
    this.done = true;
    this.detach();
    // Nothing is read while the file goes: the caller then drains (or cuts off) the rest itself.
    this.req.pause();
    this.chunks = [];
    this.held = 0;
    await this.spooling;
    await this.spool?.remove();
    this.settle(read);
  }

  private detach() {
    this.req.off("data", this.onData);
    this.req.off("end", this.onEnd);
    this.req.off("error", this.onAbort);
    this.req.off("close", this.onAbort);
  }
}
