import { KontextValidationError, sniffImageType, type ValidationIssue } from "@kontext-sdk/client";

/** The form's fields that an input error can point at. */
export type FormField = "prompt" | "images" | "aspect_ratio" | "num_images";

/** Where to show each error: next to its field, or (for anything else) in the page's alert. */
export interface FieldErrors {
  byField: Partial<Record<FormField, string[]>>;
  general: string[];
}

const FIELDS: Record<string, FormField> = {
  prompt: "prompt",
  image_url: "images",
  image_urls: "images",
  aspect_ratio: "aspect_ratio",
  num_images: "num_images",
};

/** What an image field takes, for messages that say what to pass instead. */
export const IMAGE_HELP = "choose an image file (PNG, JPEG, WebP, GIF or AVIF: its bytes or a Blob), or give an http(s) URL";

/**
 * The field errors of a failed job, by field. Both kinds of input error land here: the client's own check
 * before anything is sent, and fal's 422 from the result (the model refused the input after the job ran).
 */
export function fieldErrors(error: Error | null): FieldErrors {
  const found: FieldErrors = { byField: {}, general: [] };
  if (!(error instanceof KontextValidationError)) return found;
  for (const issue of error.issues) {
    const field = FIELDS[issue.field.split(/[.[]/)[0] ?? ""];
    if (field) found.byField[field] = [...(found.byField[field] ?? []), readable(issue)];
    else found.general.push(issue.message);
  }
  return found;
}

/**
 * An issue as a person reads it. A string the spec does not accept as an image (a bare file path, a
 * `C:\…` name) fails the spec's URL pattern, whose raw wording helps nobody filling in a form.
 */
function readable(issue: ValidationIssue): string {
  const image = /^image_urls?(\[\d+\])?$/.test(issue.field);
  if (image && (issue.rule === "pattern" || issue.rule === "format")) {
    const given = typeof issue.value === "string" ? `"${issue.value.slice(0, 60)}" ` : "";
    return `${given}is not an image the service can read: ${IMAGE_HELP}`;
  }
  return issue.message;
}

/**
 * Checks chosen files by their first bytes before anything is sent, as the service would after a paid
 * job: a text file renamed `.png` is caught here, next to the file input. Undefined when all are images.
 */
export async function notAnImage(files: readonly File[]): Promise<string | undefined> {
  for (const file of files) {
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    if (!sniffImageType(head)) return `${file.name} is not an image: ${IMAGE_HELP}`;
  }
  return undefined;
}
