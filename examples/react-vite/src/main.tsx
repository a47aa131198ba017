import { createKontextClient } from "@kontext-sdk/client";
import { KontextProvider } from "@kontext-sdk/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import "./styles.css";

// The page never holds a key: every call goes through the server's proxy, which adds it.
const client = createKontextClient({ proxyUrl: "/api/fal/proxy" });
const queryClient = new QueryClient();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <KontextProvider client={client}>
        <App />
      </KontextProvider>
    </QueryClientProvider>
  </StrictMode>,
);
