/**
 * Small terminal charts: a sparkline of a metric's history, and numbers as they read best.
 *
 * @since 0.2.0
 */

const BARS = '▁▂▃▄▅▆▇█'

/**
 * A sparkline of `values` in at most `width` characters (each the mean of its share of the
 * values), from ▁ (the lowest) to █ (the highest); NaN and infinities are left out, and a
 * flat history is a line of ▄.
 * @category utils
 * @since 0.2.0
 */
export const sparkline = (values: ReadonlyArray<number>, width = 40): string => {
  const finite = values.filter(Number.isFinite)
  const n = Math.min(width, finite.length)
  const buckets = Array.from({ length: n }, (_, i) => {
    const part = finite.slice(Math.floor((i * finite.length) / n), Math.floor(((i + 1) * finite.length) / n))
    return part.reduce((a, b) => a + b, 0) / part.length
  })
  const lo = Math.min(...buckets)
  const hi = Math.max(...buckets)
  return buckets.map((v) => (hi === lo ? BARS[3] : BARS[Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))])).join('')
}

/**
 * A number in at most 6 significant digits (`0.333333`, `1.23457e+06`), or `NaN`/`Infinity`.
 * @category utils
 * @since 0.2.0
 */
export const num = (n: number): string => (Number.isFinite(n) ? String(Number(n.toPrecision(6))) : String(n))
