// Figures: several samples of one measurement, summarised as median [min, max], and the
// plain-text and Markdown tables the bench prints.

export interface Figure {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly samples: ReadonlyArray<number>
}

export const figure = (samples: ReadonlyArray<number>): Figure => {
  if (samples.length === 0) throw new Error('a figure needs at least one sample')
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, samples }
}

/** A number with three significant digits and thousands separators: 2,480 / 0.912 / 31.4. */
export const num = (x: number): string => {
  if (!Number.isFinite(x)) return String(x)
  const abs = Math.abs(x)
  if (abs >= 1000 || Number.isInteger(x)) return Math.round(x).toLocaleString('en-US')
  if (abs >= 100) return x.toFixed(0)
  if (abs >= 10) return x.toFixed(1)
  if (abs >= 1) return x.toFixed(2)
  return x.toPrecision(3)
}

/** `median [min–max]`, or the single value when there is one sample. */
export const show = (f: Figure, unit = ''): string =>
  f.samples.length === 1 ? `${num(f.median)}${unit}` : `${num(f.median)}${unit} [${num(f.min)}–${num(f.max)}]`

export const ratio = (a: Figure, b: Figure | undefined): string => (b === undefined ? '–' : `${(a.median / b.median).toFixed(2)}x`)

/** A Markdown table; it also reads well as plain text. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: ReadonlyArray<string>): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}
