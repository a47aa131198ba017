// @vitest-environment node
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { KontextProvider, useKontext, useKontextRequest } from "../src/index.js";
import { setup, T2I } from "./helpers.js";

function Page() {
  const k = useKontext(T2I);
  const r = useKontextRequest(T2I, "some-request");
  return (
    <p>
      {k.status}/{r.status}
    </p>
  );
}

describe("server rendering", () => {
  it("imports without a window", async () => {
    expect(typeof window).toBe("undefined");
    expect(typeof document).toBe("undefined");
    const mod = await import("../src/index.js");
    expect(Object.keys(mod).sort()).toEqual([
      "KontextProvider",
      "kontextQueryKeys",
      "kontextQueryOptions",
      "kontextStatusQueryOptions",
      "mergeLogs",
      "useKontext",
      "useKontextClient",
      "useKontextRequest",
    ]);
  });

  it("renders on the server without sending anything", () => {
    const { client, mock } = setup();
    const html = renderToString(
      <QueryClientProvider client={new QueryClient()}>
        <KontextProvider client={client}>
          <Page />
        </KontextProvider>
      </QueryClientProvider>,
    );
    expect(html).toContain("idle<!-- -->/<!-- -->pending");
    expect(mock.requests).toHaveLength(0);
  });
});
