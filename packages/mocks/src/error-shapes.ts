/**
 * Every error body shape fal sends, with its status and headers, by name: fault rules pick one with
 * `shape`, the fixtures export them, and tests that replay fal's real answers start from here.
 * Sources: fal docs (model-apis/errors, request-errors, model-endpoints/queue), fal-js response.ts
 * (a 422 may carry a plain string `detail`), fal-ai/fal issues #1147/#1112/#1162/#1168 (locked accounts).
 */

export interface FalErrorShape {
  status: number;
  body: unknown;
  headers: Readonly<Record<string, string>>;
}

export const FAL_ERROR_SHAPES = {
  /** A model's field errors, pydantic-style (the result of a job whose input the model refused). */
  "validation-422": {
    status: 422,
    body: {
      detail: [
        {
          loc: ["body", "num_images"],
          msg: "Input should be less than or equal to 4",
          type: "less_than_equal",
          ctx: { le: 4 },
          input: 5,
        },
      ],
    },
    headers: { "x-fal-retryable": "false" },
  },
  /** A 422 whose `detail` is a plain string (fal-js's `ValidationError` handles it). */
  "string-detail-422": {
    status: 422,
    body: { detail: "The image at image_url could not be loaded" },
    headers: {},
  },
  /** A model error in the validation shape, on a 5xx, with `X-Fal-Retryable`. */
  "model-error-500": {
    status: 500,
    body: {
      detail: [
        {
          loc: ["body"],
          msg: "Internal server error",
          type: "internal_server_error",
          url: "https://docs.fal.ai/errors#internal_server_error",
        },
      ],
    },
    headers: { "x-fal-retryable": "true" },
  },
  /** A billable call on a locked account (exhausted balance). */
  "account-locked": {
    status: 403,
    body: { detail: "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing" },
    headers: {},
  },
  /** The caller's own start timeout (`x-fal-request-timeout`) expired: never retried. */
  "user-timeout-504": {
    status: 504,
    body: { detail: "Request timed out", error_type: "request_timeout" },
    headers: { "x-fal-request-timeout-type": "user", "x-fal-error-type": "request_timeout" },
  },
  /** An infrastructure error in the flat shape. */
  "runner-unavailable-503": {
    status: 503,
    body: { detail: "Runner scheduling failure", error_type: "runner_scheduling_failure" },
    headers: { "x-fal-error-type": "runner_scheduling_failure" },
  },
} satisfies Record<string, FalErrorShape>;

export type FalErrorShapeName = keyof typeof FAL_ERROR_SHAPES;
