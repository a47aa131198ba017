import { type EndpointId, KontextApiError } from "@kontext-sdk/client";
import { useKontextRequest } from "@kontext-sdk/react";
import { type FormEvent, useState } from "react";

/** A resume that failed, in words: a 404 means the id is unknown there (mistyped, expired, another server). */
function describeResumeError(error: Error): string {
  if (error instanceof KontextApiError && error.status === 404) {
    return `No request with this id is known (404): check the id and the endpoint. ${error.message}`;
  }
  return `${error.name}: ${error.message}`;
}

/** Follow a request id submitted elsewhere (another tab, a server, an earlier visit) with useKontextRequest. */
export function Resume({ endpoint }: { endpoint: EndpointId }) {
  const [draft, setDraft] = useState("");
  const [requestId, setRequestId] = useState<string>();
  const request = useKontextRequest(endpoint, requestId, { pollInterval: 500 });

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    setRequestId(draft.trim() || undefined);
  }

  return (
    <section className="card resume" aria-label="Resume">
      <form className="row" onSubmit={onSubmit}>
        <label className="field">
          Resume a request id
          <input name="resume" value={draft} placeholder="request id" onChange={(e) => setDraft(e.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Resume
        </button>
      </form>
      {requestId && (
        <p className="resume-line">
          <span data-testid="resume-status" className={`badge ${request.status}`}>
            {request.status}
          </span>{" "}
          {request.queuePosition !== undefined && `position ${request.queuePosition} · `}
          {request.logs.at(-1)?.message}
          {request.error && (
            <span role="alert" data-testid="resume-error">
              {" "}
              {describeResumeError(request.error)}
            </span>
          )}
        </p>
      )}
      {request.images.length > 0 && (
        <div className="results" data-testid="resume-results">
          {request.images.map((image, i) => (
            <figure key={image.url}>
              <img src={image.url} alt={`Resumed ${i + 1}`} width={image.width ?? undefined} height={image.height ?? undefined} />
            </figure>
          ))}
        </div>
      )}
    </section>
  );
}
