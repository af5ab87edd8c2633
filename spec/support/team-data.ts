// What each writer of the team specs records (spec/support/team-writer.ts), so that the spec
// can say what every run must hold, exactly.

/** The 20 params of writer `w`: `p00` ... `p19` = `w<w>.<k>`. */
export const teamParams = (w: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`p${String(k).padStart(2, '0')}`, `w${w}.${k}`]))

export const TEAM_KEYS: ReadonlyArray<string> = ['m0', 'm1', 'm2', 'm3', 'm4']

/** Point `i` of writer `w`. */
export const teamPoint = (w: number, i: number) => ({
  key: TEAM_KEYS[i % TEAM_KEYS.length] as string,
  value: w * 100_000 + i / 8,
  step: i,
  timestamp: 1_700_000_000_000 + i
})

/** Every metric history writer `w` logs in `points` points: key -> [step, value, timestamp] in step order. */
export const teamHistories = (w: number, points: number): Record<string, Array<[number, number, number]>> => {
  const out: Record<string, Array<[number, number, number]>> = Object.fromEntries(TEAM_KEYS.map((k) => [k, []]))
  for (let i = 0; i < points; i++) {
    const p = teamPoint(w, i)
    out[p.key]!.push([p.step, p.value, p.timestamp])
  }
  return out
}
