/**
 * Node flags the product runs with (the CLI's shebang and `npm start`; Azure's
 * `languageWorkers__node__arguments` app setting). A small young generation: documents
 * stream through in chunks whose memory is freed only when V8 collects their small JS
 * wrappers, and with V8's default young generation (up to 16 MB) tens of MB of spent chunks
 * wait for a collection. Measured on a 200 MB attachment (IMAP → staging → EzGED): peak
 * RSS 208–245 MB with the defaults, 185–205 MB with 8 MB, 157–163 MB with 1 MB; 800 files
 * of 50 KB through `run --once` took the same time and CPU with 1 MB as with 8 MB.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1'] as const;
