// The shared behaviour suite (spec/support/behaviour.ts), unchanged, on the memory sink in a
// browser page, under the page-side tap of spec/support/browser-tap.ts. Its report goes back
// to spec/browser/behaviour.ts.
import type { Test } from 'tap'
import { behaviourSuite } from '../behaviour.js'
import { pageTest } from '../browser-tap.js'
import { memoryUnderTest } from '../memory-under-test.js'

const main = async () => {
  const root = pageTest('page')
  await behaviourSuite(root as unknown as Test, 'memory sink in Chromium', memoryUnderTest)
  return root.report()
}

;(window as unknown as { __result: Promise<unknown> }).__result = main()
