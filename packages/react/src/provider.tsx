import type { KontextLiteClient } from "@kontext-sdk/client";
import { createContext, type ReactNode, useContext } from "react";

const KontextClientContext = createContext<KontextLiteClient | undefined>(undefined);

export interface KontextProviderProps {
  /**
   * The client every hook below uses unless it is given its own. In a browser, create it with
   * `createKontextClient({ proxyUrl: "/api/fal/proxy" })` so the page never holds a key. The hooks never use
   * `raw`, so `createKontextClientLite(...)` (a smaller bundle) works as well.
   */
  client: KontextLiteClient;
  children?: ReactNode;
}

/** Makes a Kontext client available to `useKontext` and `useKontextRequest`. Needs a `QueryClientProvider` above it. */
export function KontextProvider({ client, children }: KontextProviderProps) {
  return <KontextClientContext.Provider value={client}>{children}</KontextClientContext.Provider>;
}

/** The client from the nearest `KontextProvider`, or `client` when one is given (it wins). */
export function useKontextClient(client?: KontextLiteClient): KontextLiteClient {
  const fromContext = useContext(KontextClientContext);
  const resolved = client ?? fromContext;
  if (!resolved) {
    throw new Error(
      "No Kontext client: wrap your app in <KontextProvider client={createKontextClient({ proxyUrl })}> or pass `client` to the hook.",
    );
  }
  return resolved;
}
