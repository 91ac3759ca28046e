// The agent app's build. The server's Content-Security-Policy forbids inline scripts and
// styles, so nothing may be inlined into index.html: no module-preload polyfill, CSS as files.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `npm run dev` proxies the API to a seam server (SEAM_DEV_SERVER, default 127.0.0.1:18080).
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const server = env.SEAM_DEV_SERVER || 'http://127.0.0.1:18080';

export default defineConfig({
  plugins: [svelte()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      // The realtime socket checks Origin against Host, so both name the seam server.
      '/api/v1/realtime': { target: server, ws: true, changeOrigin: true, headers: { origin: server } },
      '/api': { target: server, changeOrigin: true, headers: { origin: server } },
      '/media': { target: server, changeOrigin: true },
    },
  },
});
