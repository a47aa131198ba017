/**
 * The job handle: one queued job, from `client.start()` (which submits) or `client.job()` (which resumes
 * by id). The lifecycle lives here once; `subscribe`, the React hooks, the CLI and the batch runner all
 * follow jobs through it.
 *
 * Three rules shape it:
 * - nothing runs unless asked, except the submit; each `statuses()` or `result()` call follows the job
 *   under its own signal, so aborting one stops its requests;
 * - an error ends the job for this handle: it is kept, and every later `statuses()`/`result()` rejects with
 *   it at once, so nothing keeps polling after a 404 or a 401;
 * - the result is fetched once, and `cancel()` works before the request id is known.
 */
import type { EndpointId, QueueStatus } from "@kontext-sdk/schema";
import { redact } from "@kontext-sdk/schema/protocol";
import {
  KontextApiError,
  KontextCancelledError,
  KontextRequestNotFoundError,
  KontextTimeoutError,
  KontextValidationError,
  RESULT_RETENTION_RULE,
  type Secrets,
  type SecretsOf,
} from "./errors.js";
import { type FollowState, followStatuses, isFinalStatus } from "./follow.js";
import type { QueueCalls } from "./queue.js";
import { linkedSignal, whenAborted } from "./signals.js";
import type { FollowOptions, KontextJob, KontextResult, RequestOptions, StatusesOptions } from "./types.js";

export interface JobContext {
  queue: QueueCalls;
  /** The key as last resolved, to redact text a job copies from a status into an error. */
  secrets: SecretsOf;
}

/**
 * The job's defaults: how `result()` follows it, a signal that bounds every wait of the handle, and a
 * whole-job `timeout` in ms after which the job is cancelled and its waits reject with KontextTimeoutError.
 */
export interface JobDefaults extends FollowOptions {
  signal?: AbortSignal;
  timeout?: number;
}

const ignore = () => {};

/**
 * A handle on the job that `submitted` resolves to (a submit in flight, or an id given by the caller).
 * A rejected `submitted` (the submit failed) makes `requestId`, `statuses()` and `result()` reject with
 * the submit's error, and settles `done`.
 *
 * Longer than most functions here on purpose: it is a closure over the handle's private state (the final
 * status, the kept failure, the one result fetch, the cancellation) shared by four short named methods;
 * splitting it would mean passing that state around or exposing it on the handle.
 */
export function createJob<E extends EndpointId>(
  context: JobContext,
  endpoint: E,
  submitted: Promise<FollowState>,
  defaults: JobDefaults = {},
): KontextJob<E> {
  const { queue } = context;
  const cancelled = new AbortController();
  let final: QueueStatus | undefined;
  let failure: { error: unknown } | undefined;
  let fetching: Promise<KontextResult<E>> | undefined;
  let outcome: Promise<KontextResult<E>> | undefined;
  let cancelling: Promise<void> | undefined;
  let resolveDone = ignore;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const deadline = defaults.timeout === undefined ? undefined : setTimeout(() => expire(defaults.timeout!), defaults.timeout);
  const settle = () => {
    clearTimeout(deadline);
    resolveDone();
  };
  const requestId = submitted.then((state) => state.requestId);
  requestId.catch(ignore); // nobody has to read it; a failed submit reaches the caller through result()
  submitted.catch(() => settle());

  /** The signal one call waits under: the job's, the call's, and the job's cancellation. */
  const callSignal = (signal?: AbortSignal) => linkedSignal([cancelled.signal, defaults.signal, signal]);

  /** Remembers a final error (not an abort: an aborted wait can be resumed), settling the job. */
  const fail = (error: unknown, signal: AbortSignal) => {
    if (signal.aborted) throw signal.reason;
    failure = { error };
    settle();
    throw error;
  };

  async function* statuses(options: StatusesOptions = {}): AsyncGenerator<QueueStatus> {
    const linked = callSignal(options.signal);
    const { signal } = linked;
    try {
      const state = await Promise.race([submitted, whenAborted(signal)]).catch((error) => fail(error, signal));
      if (failure) throw failure.error;
      if (final) {
        yield final;
        return;
      }
      try {
        for await (const status of followStatuses(queue, state, { ...defaults, ...options, signal })) {
          if (isFinalStatus(status)) {
            final = status;
            settle();
          }
          // A consumer that stops early returns through this yield: only the follower's errors reach the catch.
          yield status;
        }
      } catch (error) {
        fail(error, signal);
      }
    } finally {
      linked.release();
    }
  }

  /** The one result fetch, shared; an aborted fetch is forgotten so the next caller fetches again. */
  async function fetchResult(state: FollowState, signal: AbortSignal): Promise<KontextResult<E>> {
    for (;;) {
      if (!fetching) {
        const attempt = queue.result<E>(state.urls.responseUrl, { signal, requestId: state.requestId });
        fetching = attempt;
        attempt.catch(() => {
          if (signal.aborted && fetching === attempt) fetching = undefined;
        });
      }
      try {
        return await fetching;
      } catch (error) {
        // Another caller's abort: this caller still wants the result, so it asks again.
        if (!signal.aborted && fetching === undefined) continue;
        throw error;
      }
    }
  }

  async function result(options: RequestOptions = {}): Promise<KontextResult<E>> {
    if (outcome) return outcome;
    const linked = callSignal(options.signal);
    const { signal } = linked;
    try {
      if (!final) for await (const _ of statuses({ signal })) ignore();
      if (failure) throw failure.error;
      const state = await submitted;
      const answer = fetchResult(state, signal).catch((error) =>
        fail(withStatusError(expiredIfSeenCompleted(error, final), final, context.secrets()), signal),
      );
      const value = await answer;
      outcome ??= answer;
      settle();
      return value;
    } catch (error) {
      if (!signal.aborted && !outcome) outcome = Promise.reject(error);
      outcome?.catch(ignore);
      throw signal.aborted ? signal.reason : error;
    } finally {
      linked.release();
    }
  }

  /**
   * Stops the job: every wait rejects with `reason` at once, and the job is cancelled on the server as soon
   * as its request id is known (a submit in flight is let finish, or the job could not be found).
   */
  function stop(reason: KontextCancelledError | KontextTimeoutError): Promise<void> {
    if (cancelling) return cancelling;
    cancelled.abort(reason);
    cancelling = (async () => {
      let state: FollowState;
      try {
        state = await submitted;
      } catch {
        return; // never submitted: there is nothing to cancel
      }
      reason.requestId = state.requestId;
      if (reason instanceof KontextCancelledError) reason.message = `the job ${state.requestId} was cancelled`;
      else
        reason.message = `${reason.message.replace("the job", `the job ${state.requestId}`)}; it is cancelled on the server (best effort)`;
      if (!final) await queue.cancel(state.urls.cancelUrl, { requestId: state.requestId });
    })();
    cancelling.then(
      () => settle(),
      () => settle(),
    );
    return cancelling;
  }

  const cancel = () => stop(new KontextCancelledError());

  /** The whole-job timeout ran out: the job is stopped, and later calls get the same timeout error. */
  function expire(ms: number): void {
    if (final || failure) return;
    const reason = new KontextTimeoutError(`the job took longer than ${ms} ms`);
    failure = { error: reason };
    // Best effort: the caller is told about the timeout either way, so a failed cancel is dropped.
    stop(reason).catch(ignore);
  }

  return {
    endpoint,
    requestId,
    statuses,
    result,
    cancel,
    done,
  };
}

/**
 * A 404 on the result of a job this handle saw COMPLETED: fal had it and has since dropped it, so the
 * error says the result expired, naming fal's retention rule.
 */
function expiredIfSeenCompleted(error: unknown, final: QueueStatus | undefined): unknown {
  if (!(error instanceof KontextRequestNotFoundError) || final?.status !== "COMPLETED") return error;
  error.expired = true;
  error.message = `the result of request ${error.requestId} has expired: ${RESULT_RETENTION_RULE}. Fetch a result soon after its job completes.`;
  return error;
}

/**
 * A failed result fetch, after a COMPLETED status that carried `error`/`error_type`: the status's text
 * joins the error (fal puts the real error in the result, but a result call that fails for another
 * reason would otherwise lose the status's word on it).
 */
function withStatusError(error: unknown, final: QueueStatus | undefined, secrets: Secrets): unknown {
  const said = (final as { error?: unknown } | undefined)?.error;
  if (typeof said !== "string" || !said) return error;
  if (!(error instanceof KontextApiError || error instanceof KontextValidationError)) return error;
  const text = redact(said, secrets);
  error.statusError = text;
  error.message = `${error.message} (the job's status said: ${text})`;
  return error;
}
