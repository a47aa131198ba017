import type { InputOf, KontextInput } from "@kontext-sdk/client";
import { type KontextStatus, useKontext } from "@kontext-sdk/react";
import { type FormEvent, useEffect, useState } from "react";
import { type FormField, fieldErrors, notAnImage } from "./field-errors.js";
import { UploadProgressBar, useLargeUploads } from "./large-uploads.js";
import { Resume } from "./Resume.js";

const ENDPOINTS = {
  "text-to-image": { id: "fal-ai/flux-pro/kontext/text-to-image", label: "Text to image" },
  edit: { id: "fal-ai/flux-pro/kontext/max", label: "Edit an image" },
  multi: { id: "fal-ai/flux-pro/kontext/max/multi", label: "Combine images" },
} as const;
type Kind = keyof typeof ENDPOINTS;
type Endpoint = (typeof ENDPOINTS)[Kind]["id"];
type AspectRatio = NonNullable<InputOf<Endpoint>["aspect_ratio"]>;

const ASPECT_RATIOS: AspectRatio[] = ["1:1", "16:9", "4:3", "3:2", "2:3", "3:4", "9:16", "21:9", "9:21"];
const RUNNING: KontextStatus[] = ["submitting", "IN_QUEUE", "IN_PROGRESS"];

export function App() {
  const [kind, setKind] = useState<Kind>("text-to-image");
  const [prompt, setPrompt] = useState("");
  const [aspectRatio, setAspectRatio] = useState<AspectRatio | "">("1:1");
  const [numImages, setNumImages] = useState(2);
  const [files, setFiles] = useState<File[]>([]);
  const [imageUrl, setImageUrl] = useState("");
  // A problem found in the browser before anything was sent (a chosen file that is not an image).
  const [localImageError, setLocalImageError] = useState<string>();
  const kontext = useKontext<Endpoint>(ENDPOINTS[kind].id);
  const uploads = useLargeUploads();
  const history = useStatusHistory(kontext.status);
  const running = RUNNING.includes(kontext.status) || uploads.uploading;
  // An upload that failed shows where a failed job's error does.
  const error = kontext.error ?? uploads.error;
  const needsImages = kind !== "text-to-image";
  const errors = fieldErrors(kontext.error);
  const errorsOf = (field: FormField) => [
    ...(field === "images" && localImageError ? [localImageError] : []),
    ...(errors.byField[field] ?? []),
  ];

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setLocalImageError(undefined);
    const problem = await notAnImage(files);
    if (problem) {
      kontext.reset();
      setLocalImageError(problem);
      return;
    }
    const common = { prompt, num_images: numImages, ...(aspectRatio ? { aspect_ratio: aspectRatio } : {}) };
    const typedUrl = kind === "edit" ? imageUrl.trim() : "";
    // Files above the upload threshold go to storage first, with a progress bar, and are sent as their URLs;
    // small ones go as they are (the client turns them into data URIs). A typed URL goes as it is.
    kontext.reset();
    const images = needsImages && !typedUrl ? await uploads.prepare(files) : [];
    if (!images) return;
    const source = typedUrl || images[0]!;
    const input: KontextInput<Endpoint> =
      kind === "edit" ? { ...common, image_url: source } : kind === "multi" ? { ...common, image_urls: images } : common;
    kontext.submit(input);
  }

  return (
    <main>
      <header>
        <h1>Kontext playground</h1>
        <p>
          FLUX.1 Kontext through <code>@kontext-sdk/react</code>. Calls go to <code>/api/fal/proxy</code>; in this demo the proxy
          forwards them to a local mock of fal's queue.
        </p>
      </header>

      <form className="card" onSubmit={(event) => void onSubmit(event)}>
        <fieldset className="kinds" disabled={running}>
          <legend>Endpoint</legend>
          {(Object.keys(ENDPOINTS) as Kind[]).map((k) => (
            <label key={k} className={k === kind ? "kind selected" : "kind"}>
              <input
                type="radio"
                name="kind"
                value={k}
                checked={k === kind}
                onChange={() => {
                  setKind(k);
                  setFiles([]);
                  setImageUrl("");
                  setLocalImageError(undefined);
                  uploads.reset();
                  if (k !== "text-to-image" && aspectRatio === "1:1") setAspectRatio("");
                }}
              />
              {ENDPOINTS[k].label}
              <small>{ENDPOINTS[k].id}</small>
            </label>
          ))}
        </fieldset>

        <label className="field">
          Prompt
          <textarea
            name="prompt"
            rows={3}
            required
            value={prompt}
            placeholder="a red fox reading a newspaper in a snowy park"
            onChange={(e) => setPrompt(e.target.value)}
            aria-describedby="prompt-error"
          />
          <FieldError id="prompt-error" messages={errorsOf("prompt")} />
        </label>

        {needsImages && (
          <label className="field">
            {kind === "edit" ? "Image to edit" : "Images to combine"}
            <input
              type="file"
              name="images"
              accept="image/*"
              multiple={kind === "multi"}
              required={!imageUrl.trim()}
              aria-describedby="images-error"
              onChange={(e) => {
                setFiles([...(e.target.files ?? [])]);
                setLocalImageError(undefined);
                uploads.reset();
              }}
            />
            <Thumbnails files={files} />
            <FieldError id="images-error" messages={errorsOf("images")} />
          </label>
        )}
        {needsImages && uploads.progress && <UploadProgressBar progress={uploads.progress} />}
        {kind === "edit" && (
          <label className="field">
            …or an image URL
            <input name="image_url" value={imageUrl} placeholder="https://…" onChange={(e) => setImageUrl(e.target.value)} />
          </label>
        )}

        <div className="row">
          <label className="field">
            Aspect ratio
            <select name="aspect_ratio" value={aspectRatio} onChange={(e) => setAspectRatio(e.target.value as AspectRatio | "")}>
              {needsImages && <option value="">match the input</option>}
              {ASPECT_RATIOS.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <FieldError id="aspect-ratio-error" messages={errorsOf("aspect_ratio")} />
          </label>
          <label className="field">
            Images
            <select name="num_images" value={numImages} onChange={(e) => setNumImages(Number(e.target.value))}>
              {[1, 2, 3, 4].map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
            <FieldError id="num-images-error" messages={errorsOf("num_images")} />
          </label>
        </div>

        <div className="row actions">
          <button type="submit" disabled={running || (needsImages && files.length === 0 && !imageUrl.trim())}>
            Generate
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!running}
            onClick={() => (uploads.uploading ? uploads.cancel() : void kontext.cancel().catch(() => {}))}
          >
            Cancel
          </button>
        </div>
      </form>

      <section className="card progress" aria-label="Progress">
        <dl>
          <div>
            <dt>State</dt>
            <dd>
              <span data-testid="status" className={`badge ${kontext.status}`}>
                {kontext.status}
              </span>
            </dd>
          </div>
          <div>
            <dt>Queue position</dt>
            <dd data-testid="queue-position">{kontext.queuePosition ?? "–"}</dd>
          </div>
          <div>
            <dt>Request</dt>
            <dd>
              <code data-testid="request-id">{kontext.requestId ?? "–"}</code>
            </dd>
          </div>
          <div className="wide">
            <dt>Latest log</dt>
            <dd data-testid="latest-log">{kontext.logs.at(-1)?.message ?? "–"}</dd>
          </div>
        </dl>
        <ol className="history" data-testid="history" aria-label="States so far">
          {history.map((s, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the list only grows
            <li key={i} className={`badge ${s}`}>
              {s}
            </li>
          ))}
        </ol>
        {error && (
          <p role="alert" data-testid="error">
            {error.name}: {error.message}
          </p>
        )}
      </section>

      {kontext.images.length > 0 && (
        <section className="results" aria-label="Results">
          {kontext.images.map((image, i) => (
            <figure key={image.url}>
              <img src={image.url} alt={`Result ${i + 1}`} width={image.width ?? undefined} height={image.height ?? undefined} />
              <figcaption>
                {image.width}×{image.height} · {image.content_type}
              </figcaption>
            </figure>
          ))}
        </section>
      )}

      <Resume endpoint={ENDPOINTS[kind].id} />
    </main>
  );
}

/** An input error shown under its field (the field's `aria-describedby` points here). */
function FieldError({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <span className="field-error" id={id} data-testid={id} role="alert">
      {messages.join("; ")}
    </span>
  );
}

/** The states one job went through, for display; starts over with each new job. */
function useStatusHistory(status: KontextStatus) {
  const [history, setHistory] = useState<KontextStatus[]>([]);
  useEffect(() => {
    setHistory((h) => (status === "submitting" || status === "idle" ? [status] : h.at(-1) === status ? h : [...h, status]));
  }, [status]);
  return history;
}

function Thumbnails({ files }: { files: File[] }) {
  const [urls, setUrls] = useState<string[]>([]);
  useEffect(() => {
    const made = files.map((f) => URL.createObjectURL(f));
    setUrls(made);
    return () => {
      for (const u of made) URL.revokeObjectURL(u);
    };
  }, [files]);
  return (
    <span className="thumbs">
      {urls.map((u, i) => (
        <img key={u} src={u} alt={`Input ${i + 1}`} />
      ))}
    </span>
  );
}
