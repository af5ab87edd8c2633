// The shared behaviour suite on the memory sink, in headless Chromium: the page
// (spec/support/pages/behaviour.ts) runs every case of the suite with the library's browser
// entry, and each case comes back here as a tap subtest with its assertions. A case that needs
// a file system is reported skipped, with that reason.
import t, { type Test } from 'tap'
import { browserEntryFor, bundlePage, pageHostFor } from '../support/browser.js'
import type { CaseReport } from '../support/browser-tap.js'

if (!browserEntryFor(t)) process.exit(0)
const host = await pageHostFor(t)
if (host === undefined) process.exit(0)

const replay = (t: Test, c: CaseReport): Promise<unknown> =>
  t.test(c.name, c.skipped === undefined ? {} : { skip: c.skipped }, async (t) => {
    for (const line of c.comments) t.comment(line)
    for (const a of c.assertions) t.ok(a.ok, a.message, a.diff === undefined ? {} : { diff: a.diff })
    if (c.error !== undefined) t.fail(`threw in the page: ${c.error}`)
    for (const sub of c.cases) await replay(t, sub)
    if (c.assertions.length === 0 && c.cases.length === 0 && c.error === undefined) t.pass('nothing to check')
  })

let report: CaseReport
try {
  report = (await host.run(await bundlePage('spec/support/pages/behaviour.ts'))) as CaseReport
} catch (e) {
  // esbuild's errors name every import the browser entry does not provide
  t.fail(`the behaviour page did not run: ${e instanceof Error ? e.message : String(e)}`)
  process.exit()
}
const count = (c: CaseReport): { ran: number; skipped: number } =>
  c.cases.reduce(
    (n, sub) => {
      const m = count(sub)
      return { ran: n.ran + m.ran, skipped: n.skipped + m.skipped }
    },
    c.cases.length === 0 ? (c.skipped === undefined ? { ran: 1, skipped: 0 } : { ran: 0, skipped: 1 }) : { ran: 0, skipped: 0 }
  )
const { ran, skipped } = count(report)
t.comment(`the page ran ${ran} cases of the behaviour suite, skipped ${skipped}`)
t.ok(ran >= 20, 'the core of the suite ran in the browser')
for (const c of report.cases) await replay(t, c)
