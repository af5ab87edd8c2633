// Runs a page of TypeScript in a real, headless Chromium: the page's entry is bundled with
// esbuild for the browser (the `browser` export condition, and `charmory-track-source` so that
// `charmory-track` is the library's own source), served from a loopback HTTP server, and
// opened in Debian's Chromium (`/usr/bin/chromium`, driven by playwright-core; no browser is
// ever downloaded). The page hands back its outcome as `window.__result`, a promise.
//
// The page is served under a name of its own (http://charmory.test:PORT, resolved to
// 127.0.0.1 by Chromium's host rules, so nothing leaves loopback): MLflow allows loopback
// origins without being told, and a page under a real name is what needs
// `--cors-allowed-origins`. Chromium treats that origin as secure, as it would an https page.
import * as esbuild from 'esbuild'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

const root = resolve(new URL('../..', import.meta.url).pathname)
/** The host name the pages are served under. */
export const PAGE_HOST = 'charmory.test'

// -------------------------------------------------------------------------------------
// bundling
// -------------------------------------------------------------------------------------

export interface Bundle {
  readonly js: string
  readonly metafile: esbuild.Metafile
}

export interface BundleOptions {
  /** Minify (for sizes); off by default, so that a page's errors read. */
  readonly minify?: boolean
}

/**
 * Test-only code bundled into a page that must run in a browser as it does in Node: tap's
 * comparison library (tcompare) reaches for `Buffer` and, for React elements, `require`; the
 * shared behaviour suite takes ids from `node:crypto`, and joins paths with `node:path` and
 * builds `Buffer`s for its file cases. Each is replaced for files outside lib/ only: the
 * library itself gets nothing.
 */
const testShims: esbuild.Plugin = {
  name: 'charmory-test-shims',
  setup(build) {
    const specOnly = (importer: string): boolean => importer.startsWith(`${root}/spec/`)
    build.onResolve({ filter: /^node:(crypto|path)$/ }, (args) =>
      specOnly(args.importer) ? { path: args.path, namespace: 'charmory-test-shim' } : undefined
    )
    build.onLoad({ filter: /.*/, namespace: 'charmory-test-shim' }, (args) => ({
      contents:
        args.path === 'node:crypto'
          ? 'export const randomUUID = () => globalThis.crypto.randomUUID()'
          : "export const join = (...parts) => parts.join('/').replace(/\\/+/g, '/')",
      loader: 'js'
    }))
    // a spec module may build a Node Buffer as an argument (to t.testdir, which then says
    // that its case needs a file system): it gets Uint8Array-backed stand-ins, in that module only
    build.onLoad({ filter: /\/spec\/.*\.ts$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises')
      const text = await readFile(args.path, 'utf8')
      if (!/\bBuffer\./.test(text)) return undefined
      const stand = 'const Buffer = { from: (x: ArrayLike<number>) => Uint8Array.from(x), isBuffer: (_: unknown) => false };'
      return { contents: `${stand}\n${text}`, loader: 'ts', resolveDir: dirname(args.path) }
    })
    build.onResolve({ filter: /react-element-to-jsx-string\.js$/ }, (args) =>
      args.importer.includes('/tcompare/') ? { path: args.path, namespace: 'charmory-no-react' } : undefined
    )
    build.onLoad({ filter: /.*/, namespace: 'charmory-no-react' }, () => ({
      contents: 'export default () => { throw new Error("no React elements in a browser page") }',
      loader: 'js'
    }))
    build.onLoad({ filter: /\/tcompare\/dist\/esm\/[^/]+\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises')
      const text = await readFile(args.path, 'utf8')
      return {
        contents: text.includes('Buffer') ? `const Buffer = { isBuffer: () => false };\n${text}` : text,
        loader: 'js',
        resolveDir: dirname(args.path)
      }
    })
  }
}

/**
 * Bundles `entry` (a path under the project) for the browser, as an ES module, with its
 * metafile (every input and import, for the bundle specs and the size report).
 */
export const bundlePage = async (entry: string, options: BundleOptions = {}): Promise<Bundle> => {
  const result = await esbuild.build({
    entryPoints: [resolve(root, entry)],
    absWorkingDir: root,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    // platform=browser adds the `browser`, `import` and `default` conditions; this one routes
    // `charmory-track` to lib/ instead of dist/
    conditions: ['charmory-track-source'],
    minify: options.minify ?? false,
    sourcemap: options.minify === true ? false : 'inline',
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [testShims]
  })
  const out = result.outputFiles[0]
  if (out === undefined) throw new Error(`esbuild wrote nothing for ${entry}`)
  return { js: out.text, metafile: result.metafile }
}

// -------------------------------------------------------------------------------------
// Chromium
// -------------------------------------------------------------------------------------

/** Debian's Chromium, or the one `CHARMORY_CHROMIUM` names; undefined when neither is there. */
export const chromiumExecutable = (): string | undefined => {
  const path = process.env['CHARMORY_CHROMIUM'] ?? '/usr/bin/chromium'
  return existsSync(path) ? path : undefined
}

interface TapLike {
  readonly teardown: (f: () => unknown) => void
  readonly fail: (message: string) => void
  readonly comment: (message: string) => void
}

/** A page served from a loopback HTTP server, and the browser to open it in. */
export interface PageHost {
  /** `http://charmory.test:PORT`, the origin of every page this host serves. */
  readonly origin: string
  /**
   * Serves `bundle` as the page, opens it, hands it `input` as `window.__input`, and resolves
   * with what `window.__result` resolves to. Rejects with the page's error (and its console)
   * when the page throws, when `__result` rejects, or after `timeoutMs` (120 s unless given).
   */
  readonly run: (bundle: Bundle, input?: unknown, timeoutMs?: number) => Promise<unknown>
}

const html = '<!doctype html><meta charset="utf-8"><title>charmory-track</title><script type="module" src="/page.js"></script>\n'

/**
 * The page host for one spec file: a loopback HTTP server on a free port and a headless
 * Chromium, both closed in the spec's teardown (and Chromium also when the process exits,
 * by playwright's own hooks). Without Chromium it returns undefined after a loud comment, and
 * the caller skips; in CI that is a failure (`.ci/run` installs Debian's `chromium`).
 */
export const pageHostFor = async (t: TapLike): Promise<PageHost | undefined> => {
  const executablePath = chromiumExecutable()
  if (executablePath === undefined) {
    const message = 'the browser specs need Chromium: `apt-get install chromium` (or set CHARMORY_CHROMIUM to its path)'
    if (process.env['CI'] === 'true') t.fail(message)
    else t.comment(`SKIPPING: ${message}`)
    return undefined
  }
  let current: string | undefined
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html)
    else if (path === '/page.js' && current !== undefined) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(current)
    } else res.writeHead(404).end()
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const origin = `http://${PAGE_HOST}:${port}`
  let browser: Browser | undefined
  t.teardown(async () => {
    await browser?.close()
    await new Promise<void>((ok) => server.close(() => ok()))
  })
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      `--host-resolver-rules=MAP ${PAGE_HOST} 127.0.0.1`,
      `--unsafely-treat-insecure-origin-as-secure=${origin}`
    ]
  })
  const opened = browser

  const run = async (bundle: Bundle, input: unknown = null, timeoutMs = 120_000): Promise<unknown> => {
    current = bundle.js
    const context = await opened.newContext()
    const page = await context.newPage()
    const consoleLines: Array<string> = []
    page.on('console', (m) => void consoleLines.push(`${m.type()}: ${m.text()}`))
    let thrown: ((e: Error) => void) | undefined
    const pageError = new Promise<never>((_, fail) => (thrown = fail))
    page.on('pageerror', (e) => thrown?.(new Error(`the page threw: ${e.stack ?? e.message}`)))
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`the page gave no result within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await page.addInitScript((value) => {
        ;(window as unknown as { __input: unknown }).__input = value
      }, input)
      await page.goto(`${origin}/`)
      const result = page
        .waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, {
          timeout: 0
        })
        .then(() => page.evaluate(() => (window as unknown as { __result: unknown }).__result))
      return await Promise.race([result, pageError, timeout])
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      throw new Error(`${message}\n--- the page's console ---\n${consoleLines.join('\n')}`)
    } finally {
      clearTimeout(timer)
      await context.close()
    }
  }
  return { origin, run }
}

// -------------------------------------------------------------------------------------
// the browser entry
// -------------------------------------------------------------------------------------

/** The line of package.json's `exports["."]` that routes browser bundlers to the browser entry. */
export const BROWSER_EXPORT = {
  'charmory-track-source': './lib/index.browser.ts',
  types: './dist/index.browser.d.ts',
  default: './dist/index.browser.js'
}

/**
 * Whether the package has its browser entry (lib/index.browser.ts, routed by the `browser`
 * condition of package.json's exports). Without it, the specs that bundle the library for a
 * browser cannot run: outside CI they skip loudly, in CI that is a failure.
 */
export const browserEntryFor = (t: TapLike): boolean => {
  const problem = browserEntryProblem()
  if (problem === undefined) return true
  if (process.env['CI'] === 'true' || existsSync(join(root, 'lib/index.browser.ts'))) t.fail(problem)
  else t.comment(`SKIPPING: ${problem}`)
  return false
}

/** What keeps the library from being bundled for a browser, if anything. */
export const browserEntryProblem = (): string | undefined => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, Record<string, unknown>>
  }
  const routed = manifest.exports['.']?.['browser'] !== undefined
  const written = existsSync(join(root, 'lib/index.browser.ts'))
  if (routed && written) return undefined
  return written
    ? `lib/index.browser.ts exists but package.json's exports["."] has no browser condition: add, first in exports["."], "browser": ${JSON.stringify(BROWSER_EXPORT)}`
    : 'the browser entry lib/index.browser.ts does not exist yet, so the library cannot be bundled for a browser'
}
