/**
 * The capabilities every JavaScript platform has (Node >= 19 and every browser): the system
 * clock, the console, plain timers, `Math.random` and ids from the Web Crypto API. The Node and
 * browser platforms are built from these and their own.
 *
 * @since 0.3.0
 */
import type { Clock, Logger, Timers } from './Platform.js'

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The system clock (`Date.now`).
 * @category instances
 * @since 0.1.0
 */
export const systemClock: Clock = { now: () => Date.now() }

/**
 * `Math.random`.
 * @category instances
 * @since 0.3.0
 */
export const mathRandom = (): number => Math.random()

/**
 * A logger writing to the console's error stream, the same lines as Node's default logger.
 * @category instances
 * @since 0.2.0
 */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`charmory-track: warning: ${message}`),
  info: (message) => console.warn(`charmory-track: ${message}`)
}

/**
 * A 32-hex-digit random id from the Web Crypto API (`getRandomValues`: Node >= 19 and every
 * browser, also on a page that is not a secure context, where `randomUUID` is missing).
 * @category instances
 * @since 0.2.0
 */
export const randomId = (): string =>
  Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * `setTimeout` / `setInterval` as `Timers`, for platforms where a timer cannot keep the
 * program alive (a browser).
 * @category instances
 * @since 0.2.0
 */
export const plainTimers: Timers = {
  after: (ms, f) => {
    const handle = setTimeout(f, ms)
    return () => clearTimeout(handle)
  },
  every: (ms, f) => {
    const handle = setInterval(f, ms)
    return () => clearInterval(handle)
  },
  sleep: (ms) => new Promise<void>((ok) => void setTimeout(ok, ms))
}
