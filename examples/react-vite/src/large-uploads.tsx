import { DEFAULT_UPLOAD_THRESHOLD } from "@kontext-sdk/client";
import { useKontextClient } from "@kontext-sdk/react";
import { useRef, useState } from "react";

/** Where the uploads of one submit stand: bytes of every large file together. */
export interface UploadsProgress {
  fileNames: string[];
  uploadedBytes: number;
  totalBytes: number;
  done: boolean;
}

/** A file the client would upload anyway (above `uploadThreshold`): uploaded here first, to show its progress. */
export const isLarge = (file: File) => file.size > DEFAULT_UPLOAD_THRESHOLD;

/**
 * Uploads the chosen files above the client's threshold with `client.storage.upload` before the submit, so
 * the page can show a progress bar; the submit then carries their short URLs. Small files are left as they
 * are (the client sends them inline as data URIs). The client would upload large ones by itself too, but
 * silently: the explicit call is what gives `onProgress`.
 */
export function useLargeUploads() {
  const client = useKontextClient();
  const [progress, setProgress] = useState<UploadsProgress>();
  const [error, setError] = useState<Error>();
  const controller = useRef<AbortController>(undefined);

  /** The files to submit, large ones replaced by their URLs; undefined when an upload failed or was cancelled. */
  async function prepare(files: readonly File[]): Promise<(File | string)[] | undefined> {
    setError(undefined);
    const large = files.filter(isLarge);
    if (large.length === 0) {
      setProgress(undefined);
      return [...files];
    }
    const abort = new AbortController();
    controller.current = abort;
    const totalBytes = large.reduce((sum, file) => sum + file.size, 0);
    const fileNames = large.map((file) => file.name);
    setProgress({ fileNames, uploadedBytes: 0, totalBytes, done: false });
    // Bytes of the files finished so far; the current file's progress adds to it.
    let finishedBytes = 0;
    try {
      const prepared: (File | string)[] = [];
      for (const file of files) {
        if (!isLarge(file)) {
          prepared.push(file);
          continue;
        }
        const url = await client.storage.upload(file, {
          signal: abort.signal,
          onProgress: ({ uploadedBytes }) =>
            setProgress({ fileNames, uploadedBytes: finishedBytes + uploadedBytes, totalBytes, done: false }),
        });
        finishedBytes += file.size;
        prepared.push(url);
      }
      setProgress({ fileNames, uploadedBytes: totalBytes, totalBytes, done: true });
      return prepared;
    } catch (failure) {
      setProgress(undefined);
      // A cancelled upload is not an error to show: the user asked for it.
      if (!abort.signal.aborted) setError(failure instanceof Error ? failure : new Error(String(failure)));
      return undefined;
    } finally {
      if (controller.current === abort) controller.current = undefined;
    }
  }

  return {
    progress,
    error,
    uploading: progress !== undefined && !progress.done,
    prepare,
    /** Stops the uploads under way (the client aborts the PUT). */
    cancel: () => controller.current?.abort(),
    /** Forgets the progress and error (another file was chosen). */
    reset: () => {
      controller.current?.abort();
      setProgress(undefined);
      setError(undefined);
    },
  };
}

/** An accessible progress bar for the uploads: a `<progress>` named by its label. */
export function UploadProgressBar({ progress }: { progress: UploadsProgress }) {
  const names = progress.fileNames.join(", ");
  const verb = progress.done ? "Uploaded" : "Uploading";
  return (
    <div className="field upload" data-testid="upload">
      <label id="upload-progress-label" htmlFor="upload-progress">
        {verb} {names} ({megabytes(progress.uploadedBytes)} of {megabytes(progress.totalBytes)} MB)
      </label>
      {/* `aria-labelledby` as well as the label's `for`: not every accessibility tree names a <progress> by its <label>. */}
      <progress
        id="upload-progress"
        aria-labelledby="upload-progress-label"
        value={progress.uploadedBytes}
        max={progress.totalBytes}
        aria-busy={!progress.done}
      />
    </div>
  );
}

const megabytes = (bytes: number) => (bytes / 1_000_000).toFixed(1);
