/** The output of a small valid job: 200, spec-valid, holding `num_images` images. */

import type { Recorder } from "../run/context.js";
import type { Exchange } from "../run/http.js";
import type { JobInput } from "../run/inputs.js";
import type { OperationId } from "../spec-operations.js";
import { answerText } from "./submit.js";

export function checkOutput(recorder: Recorder, operationId: OperationId, exchange: Exchange, input: JobInput): void {
  if (exchange.status !== 200) {
    recorder.violations.push({
      operationId,
      status: exchange.status,
      rule: "result-failed",
      path: "$",
      message: `a small valid job answered ${exchange.status}: ${answerText(exchange)}`,
    });
    return;
  }
  const images = (exchange.body as { images?: unknown } | null)?.images;
  if (Array.isArray(images) && images.length !== input.num_images) {
    recorder.violations.push({
      operationId,
      status: 200,
      rule: "image-count",
      path: "$.images",
      message: `${images.length} images for num_images ${String(input.num_images)}`,
    });
  }
}
