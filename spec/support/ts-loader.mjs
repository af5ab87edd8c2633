// `node --import ./spec/support/ts-loader.mjs`: how tap loads the TypeScript specs and lib/
// (.taprc). tap's TypeScript plugin (ts-node) compiles every file with TypeScript inside the
// spec's process, under V8's coverage, which costs seconds of CPU per spec file; tsx puts each
// file on one line, which V8's coverage then maps back wrongly (every file shows 100%).
// esbuild strips the types in its own process, with an inline source map that coverage reads.
// The types are checked once, by `tsc --noEmit` (npm run typecheck).
import { register } from 'node:module'

register('./ts-loader-hooks.mjs', import.meta.url)
