/** Mocha root hooks: one backend for the whole run (TFJS_BACKEND=cpu|wasm, default wasm). */
import { initBackend } from '../src/core/backend.js';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60000);
    await initBackend(process.env.TFJS_BACKEND ?? 'wasm');
  },
};
