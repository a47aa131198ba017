// The React hook on top of the client (react and @tanstack/react-query stay external: the app has them).
import { createKontextClientLite } from "@kontext-sdk/client";
import { KontextProvider, useKontext } from "@kontext-sdk/react";
import { createElement } from "react";

const client = createKontextClientLite({ proxyUrl: "/api/fal/proxy" });

function Generate() {
  const job = useKontext("fal-ai/flux-pro/kontext/text-to-image");
  const label = job.status === "COMPLETED" ? (job.images[0]?.url ?? "") : job.status;
  return createElement("button", { type: "button", onClick: () => job.submit({ prompt: "a red fox" }) }, label);
}

export const App = () => createElement(KontextProvider, { client }, createElement(Generate));
