import t from 'tap'
import fc from 'fast-check'
import { comparePoints, metricHistory, type Point } from '../lib/MetricHistory.js'

const p = (step: number, timestamp: number, value: number): Point => ({ value, timestamp, step })

/** What MLflow keeps of a sequence of points: the first of each identical (value, timestamp, step). */
const firstOfEach = (points: ReadonlyArray<Point>): ReadonlyArray<Point> => {
  const same = (a: Point, b: Point): boolean =>
    a.step === b.step && a.timestamp === b.timestamp && (a.value === b.value || (Number.isNaN(a.value) && Number.isNaN(b.value)))
  return points.filter((x, i) => !points.slice(0, i).some((y) => same(x, y)))
}

t.test('points in order are kept as given; an identical point is one point', async (t) => {
  const h = metricHistory()
  const added = [p(0, 10, 1), p(1, 11, 0.5), p(1, 11, 0.5), p(2, 12, 0.25), p(0, 10, 1), p(1, 11, 0.5)].map((x) => h.add(x))
  t.strictSame(added, [true, true, false, true, false, false])
  t.strictSame(h.points, [p(0, 10, 1), p(1, 11, 0.5), p(2, 12, 0.25)])
})

t.test('a new point out of order is kept, after the others, and duplicates after it are not', async (t) => {
  const h = metricHistory()
  for (const x of [p(5, 1, 0), p(6, 1, 0), p(3, 1, 0), p(5, 1, 0), p(3, 1, 0), p(4, 1, 0), p(6, 1, 0)]) h.add(x)
  t.strictSame(
    h.points.map((x) => x.step),
    [5, 6, 3, 4]
  )
})

t.test('points differing in value, timestamp or step alone are distinct; NaN is one value, 0 and -0 too', async (t) => {
  const h = metricHistory()
  const added = [p(0, 0, 1), p(0, 0, 2), p(0, 1, 1), p(1, 0, 1), p(0, 0, NaN), p(0, 0, NaN), p(0, 0, 0), p(0, 0, -0), p(0, 0, Infinity), p(0, 0, -Infinity)].map(
    (x) => h.add(x)
  )
  t.strictSame(added, [true, true, true, true, true, false, true, false, true, true])
  t.equal(comparePoints(p(0, 0, NaN), p(0, 0, Infinity)), 1, 'NaN after every number')
  t.equal(comparePoints(p(0, 0, 1), p(0, 0, NaN)), -1)
  t.equal(comparePoints(p(0, 0, NaN), p(0, 0, NaN)), 0)
  t.ok(comparePoints(p(1, 0, 0), p(0, 9, 9)) > 0, 'by step first')
  t.ok(comparePoints(p(0, 1, 0), p(0, 0, 9)) > 0, 'then timestamp')
})

t.test('points logged without a step, many in one millisecond, are told apart by value', async (t) => {
  for (const burst of [3, 600]) {
    const h = metricHistory()
    const values = Array.from({ length: burst }, (_, i) => (i * 7919) % burst)
    const once = [...values.map((v) => p(0, 5, v)), ...values.map((v) => p(0, 6, v))]
    t.ok(once.every((x) => h.add(x)), `a burst of ${burst}: every point is new`)
    t.notOk([...once].reverse().some((x) => h.add(x)), 'and each is one point')
    t.notOk(h.add(p(0, 5, values[0]!)))
    t.ok(h.add(p(0, 5, burst)), 'a new value at an earlier millisecond')
    t.equal(h.points.length, 2 * burst + 1)
  }
})

t.test('any sequence keeps the first of each identical point, in the order given', async (t) => {
  const point = fc.record({
    step: fc.integer({ min: 0, max: 3 }),
    timestamp: fc.integer({ min: 0, max: 3 }),
    value: fc.constantFrom(0, -0, 1, 2.5, NaN, Infinity, -Infinity)
  })
  fc.assert(
    fc.property(fc.array(point, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (points, copies) => {
      const h = metricHistory()
      const sequence = Array.from({ length: copies }, () => points).flat()
      const added = sequence.filter((x) => h.add(x))
      const want = firstOfEach(sequence)
      return added.length === want.length && h.points.length === want.length && h.points.every((x, i) => comparePoints(x, want[i]!) === 0)
    })
  )
  t.pass('checked')
})
