// The metric stream every ingest row sends: point i is key `metric_<i mod 10>`, step i.
// bench/python/clients.py sends the same points.

export const KEYS: ReadonlyArray<string> = Array.from({ length: 10 }, (_, i) => `metric_${i}`)

export const keyOf = (i: number): string => KEYS[i % KEYS.length] as string

/** A value that varies, as a loss or an accuracy does. */
export const valueOf = (i: number): number => 1 / (1 + i) + (i % 7) * 0.125

/** Points of one key when `n` points are sent. */
export const perKey = (n: number, key = 0): number => Math.floor(n / KEYS.length) + (key < n % KEYS.length ? 1 : 0)
