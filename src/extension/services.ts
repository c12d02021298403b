// The entry of dist/services.js: the composition root and the exports, required by startup.ts after activation.
export { Container } from './container';
export { createApi } from './api';
