import t from 'tap'
import { InFlight } from 'charmory-track'

/** Points/s a simulated server delivers with `n` requests in flight. */
type Profile = (n: number) => number

/**
 * Feeds `c` `batches` completions of 1,000 points from a server with `profile`, on a simulated
 * clock; gives the limit after each completion.
 */
const drive = (c: InFlight.InFlight, profile: (n: number, i: number) => number, batches: number, saturated = true): Array<number> => {
  const limits: Array<number> = []
  let now = 0
  for (let i = 0; i < batches; i++) {
    now += (1000 / profile(c.limit(), i)) * 1000
    c.completed(1000, now, saturated)
    limits.push(c.limit())
  }
  return limits
}

/** The limit most requests went out with. */
const mode = (limits: ReadonlyArray<number>): number => {
  const counts = new Map<number, number>()
  for (const l of limits) counts.set(l, (counts.get(l) ?? 0) + 1)
  return [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0]
}

const shareAt = (limits: ReadonlyArray<number>, n: number): number => limits.filter((l) => l === n).length / limits.length

// the shapes measured on this project's machine (issue 12), and one that keeps scaling
const profiles: ReadonlyArray<readonly [string, Profile, number]> = [
  ['SQLite, 1 worker: one at a time is best', (n) => (n === 1 ? 6000 : n === 2 ? 5850 : 5500 - n * 50), 1],
  ['SQLite, 4 workers: two in flight', (n) => [0, 4500, 8250, 7900, 7400, 7000, 6800, 6600, 6400][n] ?? 6000, 2],
  ['PostgreSQL, replicas: six, then flat', (n) => Math.min(n, 6) * 3000, 6],
  ['a server that keeps scaling: the maximum', (n) => n * 1000, 8]
]

for (const [name, profile, best] of profiles) {
  t.test(`hill climbing finds the best number in flight: ${name}`, async (t) => {
    const c = InFlight.adaptiveInFlight({ initial: 2, min: 1, max: 8 })
    const limits = drive(c, profile, 600)
    t.equal(mode(limits.slice(300)), best)
    // after it settled, re-measuring the neighbours costs a bounded share of the requests
    t.ok(shareAt(limits.slice(300), best) >= 0.75, `${(shareAt(limits.slice(300), best) * 100).toFixed(0)}% of the later requests at ${best}`)
  })
}

t.test('two limits within 1% are a tie, settled for the lower one', async (t) => {
  const c = InFlight.adaptiveInFlight({ initial: 1, min: 1, max: 8 })
  t.equal(mode(drive(c, (n) => (n >= 3 ? 9000 + n * 10 : n * 3000), 600).slice(300)), 3)
})

t.test('a server whose best changes is followed (neighbours are measured again)', async (t) => {
  const c = InFlight.adaptiveInFlight({ initial: 2, min: 1, max: 8 })
  // a second worker starts after 400 requests: four in flight become best
  const limits = drive(c, (n, i) => (i < 400 ? (n === 2 ? 6000 : 5000) : Math.min(n, 4) * 2500), 1400)
  t.equal(mode(limits.slice(200, 400)), 2)
  t.equal(mode(limits.slice(1000)), 4)
})

t.test('windows where the producer was slower than the server teach nothing', async (t) => {
  const c = InFlight.adaptiveInFlight({ initial: 2, min: 1, max: 8 })
  const limits = drive(c, (n) => n * 1000, 500, false)
  t.ok(limits.every((l) => l === 2))
  // one unsaturated completion breaks a window: it starts again at the next saturated one
  let now = 0
  for (let i = 0; i < 3; i++) c.completed(1000, (now += 100), true)
  c.completed(1000, (now += 100), false)
  for (let i = 0; i < 4; i++) c.completed(1000, (now += 100), true)
  t.equal(c.limit(), 2, 'no window was complete')
  c.completed(1000, (now += 100), true)
  t.equal(c.limit(), 4, "the first whole window moves it: the limit doubles")
})

t.test('bounds hold: the initial limit is clamped, and a single allowed value is kept', async (t) => {
  t.equal(InFlight.adaptiveInFlight({ initial: 20, min: 1, max: 4 }).limit(), 4)
  t.equal(InFlight.adaptiveInFlight({ initial: 0, min: 1, max: 4 }).limit(), 1)
  const one = InFlight.adaptiveInFlight({ initial: 1, min: 1, max: 1, probeEvery: 1 })
  t.ok(drive(one, (n) => n * 1000, 200).every((l) => l === 1))
  const top = InFlight.adaptiveInFlight({ initial: 1, min: 1, max: 3, probeEvery: 2 })
  const limits = drive(top, (n) => n * 1000, 400)
  t.ok(limits.every((l) => l >= 1 && l <= 3))
  t.equal(mode(limits.slice(200)), 3)
})

t.test('a clock that does not move between completions is taken as one millisecond', async (t) => {
  const c = InFlight.adaptiveInFlight({ initial: 2, min: 1, max: 8 })
  for (let i = 0; i < 100; i++) c.completed(1000, 42, true)
  t.ok(c.limit() >= 1 && c.limit() <= 8)
})

t.test('a fixed number in flight never changes', async (t) => {
  const c = InFlight.fixedInFlight(3)
  t.ok(drive(c, (n) => n * 1000, 100).every((l) => l === 3))
})
