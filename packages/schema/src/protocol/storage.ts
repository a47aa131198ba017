/**
 * fal's storage flow, as the spec records it (`STORAGE_UPLOAD`, spec/storage.yaml; fal-js storage.ts):
 * an initiate on the storage host (`/storage/upload/initiate`, or `initiate-multipart` for files over the
 * multipart threshold) answers a signed `upload_url` and the file's `file_url`.
 */
import { STORAGE_UPLOAD } from "../generated/registry.js";

/** The initiate path of a single (`multipart: false`) or multipart upload. */
export const initiatePath = (multipart: boolean): string =>
  multipart ? STORAGE_UPLOAD.initiateMultipartPath : STORAGE_UPLOAD.initiatePath;

/** Whether `path` is an initiate, and which: `true` multipart, `false` single, undefined not an initiate. */
export function initiateKindOf(path: string): boolean | undefined {
  if (path === STORAGE_UPLOAD.initiatePath) return false;
  if (path === STORAGE_UPLOAD.initiateMultipartPath) return true;
  return undefined;
}
