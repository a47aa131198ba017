// The React hook on top of the client (react and @tanstack/react-query stay external: the app has them).
import { createKontextClientLite, type KontextClient } from "@kontext-sdk/client";
import { KontextProvider, useKontext } from "@kontext-sdk/react";
import { createElement } from "react";

// The hooks never touch `raw`, but KontextProvider's type asks for a full KontextClient; the cast keeps
// the compiled validators out of the bundle, as an app that counts bytes would.
const client = createKontextClientLite({ proxyUrl: "/api/fal/proxy" }) as KontextClient;

function Generate() {
  const job = useKontext("fal-ai/flux-pro/kontext/text-to-image");
  const label = job.status === "COMPLETED" ? (job.images[0]?.url ?? "") : job.status;
  return createElement("button", { type: "button", onClick: () => job.submit({ prompt: "a red fox" }) }, label);
}

export const App = () => createElement(KontextProvider, { client }, createElement(Generate));
