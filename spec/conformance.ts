// The shared behaviour suite (spec/support/behaviour.ts) against the in-memory sink, read
// back from its snapshot (the same suite runs in Chromium: spec/browser/behaviour.ts).
import t from 'tap'
import { behaviourSuite } from './support/behaviour.js'
import { memoryUnderTest } from './support/memory-under-test.js'

await behaviourSuite(t, 'memory sink', memoryUnderTest)
