/** One handler for every method a route file must export: Next.js app routes, SvelteKit, Remix… */
export interface RouteHandlers {
  GET: (request: Request) => Promise<Response>;
  POST: (request: Request) => Promise<Response>;
  PUT: (request: Request) => Promise<Response>;
}

/**
 * `export const { GET, POST, PUT } = toRouteHandlers(proxy)` in `app/api/fal/proxy/[[...path]]/route.ts`.
 * PUT is the queue's cancel; leaving it out breaks cancellation. Extra arguments the framework passes
 * (Next's route context) are ignored.
 */
export function toRouteHandlers(handler: (request: Request) => Promise<Response>): RouteHandlers {
  const route = (request: Request) => handler(request);
  return { GET: route, POST: route, PUT: route };
}
