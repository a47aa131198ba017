/** Where the proxy is mounted on the Worker's origin. (Its own module: a Worker's entry may export only handlers.) */
export const MOUNT = "/api/fal/proxy";
