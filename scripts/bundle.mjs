// Bundles every function into dist/main.js (package.json "main"), the file Azure Functions
// loads: one file parses faster than hundreds of modules at cold start.
import { build } from 'esbuild';

await build({
  entryPoints: ['functions/index.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: false,
  logLevel: 'warning',
  // Provided by the Functions worker at run time.
  external: ['@azure/functions-core'],
  // Some Azure SDK modules read import.meta.url, which is empty in CommonJS.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
});
