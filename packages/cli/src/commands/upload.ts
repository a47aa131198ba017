/**
 * `kontext upload FILE`: the file to fal's storage (initiate with the key, the bytes to the signed URL
 * without it), and its URL printed. On the embedded mock the URL lives only while the command runs.
 */
import { connect } from "../credentials.js";
import { UsageError } from "../errors.js";
import { imageSource } from "../inputs.js";
import { LocalImageFile, uploadFile } from "../uploads.js";
import { type CommandContext, shellWords } from "./context.js";

export interface UploadFlags {
  json?: boolean;
}

export async function runUpload(ctx: CommandContext, file: string, flags: UploadFlags): Promise<number> {
  const { io } = ctx;
  const local = await imageSource(file, "upload", io.cwd);
  if (!(local instanceof LocalImageFile)) throw new UsageError(`upload takes a local file; ${file} is a URL already`);
  const connection = await connect(ctx.globals, io, {
    example: shellWords(ctx.argv),
    purpose: "images",
    ...(ctx.connected ? { connected: ctx.connected } : {}),
  });
  try {
    if (!connection.canUpload) {
      throw new UsageError("upload needs a storage host: with --base-url, also give --storage-base-url");
    }
    const url = await uploadFile(local, connection.client, io);
    io.stdout.write(flags.json ? `${JSON.stringify({ url })}\n` : `${url}\n`);
    if (connection.embedded) io.stderr.write("note: this URL lives only while this command runs (built-in mock).\n");
    return 0;
  } finally {
    await connection.close();
  }
}
