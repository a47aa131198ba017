/** The images of a completed job, served like a CDN: no credentials, cacheable, 404 once the job is gone. */
import type { Job } from "../job.js";
import { notFound } from "../responses.js";

export function file(job: Job | undefined, index: number, format: "png" | "jpeg"): Response {
  const served = job && job.state === "COMPLETED" && !job.failure ? job.generation.files[index] : undefined;
  if (!served || job?.generation.format !== format) return notFound();
  return new Response(served.bytes as BodyInit, {
    status: 200,
    headers: {
      "content-type": served.contentType,
      "content-length": String(served.bytes.length),
      "cache-control": "public, max-age=3600",
    },
  });
}
