// Types for provision.mjs where TypeScript code imports it (the benchmarks).
export const NODE_VERSION: string;
export const CODE_SERVER_VERSION: string;
export const CACHE_DIR: string;
export function hostPaths(): Record<string, string>;
export function provision(options?: { quiet?: boolean; force?: boolean }): Promise<unknown>;
