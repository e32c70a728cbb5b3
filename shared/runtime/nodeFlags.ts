/**
 * Node flags the product runs with (the CLI's shebang and `npm start`; Azure's
 * `languageWorkers__node__arguments` app setting). A smaller young generation: documents
 * stream through in chunks, and V8's default lets tens of MB of spent chunks wait for a
 * collection. Measured on a 200 MB attachment (IMAP → staging → EzGED): peak RSS 208–211 MB
 * with the defaults, 156–202 MB with this (GC timing varies), no slower (`npm run bench`).
 */
export const NODE_FLAGS = ['--max-semi-space-size=8'] as const;
