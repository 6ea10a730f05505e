/**
 * Vite build of the Tocsin pages.
 *
 * One entry per server-rendered page (no SPA): the Python side reads the manifest
 * (tocsin/web/assets.py) to find each entry's hashed JS and CSS files. A domain that
 * adds a page adds `src/pages/<name>.ts` to PAGES below.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = dirname(fileURLToPath(import.meta.url));
const PAGES = ["home", "apidocs", "admin", "sos", "alerts", "authority", "watch", "report",
  "dispatch", "unit", "shelter", "persons", "safety", "stats", "statsreport", "cyber",
  "cyber_report", "cyber_advisories", "person_record"] as const;

/** Git must never track the build output; emptyOutDir wipes the marker, so emit it again. */
const STATIC_GITIGNORE = "# Build output of frontend/ (`make frontend`): never committed.\n*\n!.gitignore\n";

function keepGitignore(): Plugin {
  return {
    name: "tocsin-keep-gitignore",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: ".gitignore", source: STATIC_GITIGNORE });
    },
  };
}

export default defineConfig({
  base: "/static/",
  // Files copied as they are (stable names, e.g. the favicon), outside the manifest.
  publicDir: "public",
  plugins: [keepGitignore()],
  build: {
    outDir: resolve(root, "../tocsin/web/static"),
    emptyOutDir: true,
    manifest: true,
    target: "es2022",
    sourcemap: true,
    // The page is served with CSP `script-src 'self'`: nothing may be inlined as data: URLs.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: Object.fromEntries(
        PAGES.map((name) => [name, resolve(root, `src/pages/${name}.ts`)]),
      ),
    },
  },
});
