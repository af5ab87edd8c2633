/**
 * The journal writer of a local run: records are appended as they are logged; metric points are
 * gathered in memory (at most `bufferBytes`; a producer faster than the disk waits) and written
 * in one append, a thousand points a line; the journal is written and flushed to disk (`fsync`)
 * at least every `flushIntervalMs` while the run is open, on `drain(true)`, and when it is
 * closed. The first failure of the disk is kept and reported by every later call.
 *
 * @since 0.3.0
 */
import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import { describeUnknown, fileError, type TrackError } from '../Errors.js'
import type { Platform } from '../platform/Platform.js'
import * as Codecs from './Codecs.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------


/**
 * A run's journal being written: records and metric points gathered and appended, written out
 * and flushed to disk at least every `flushIntervalMs`, and when asked.
 * @category model
 * @since 0.3.0
 */
export interface Writer {
  /** Adds a record line; resolves at once unless the buffer is full and must be written first. */
  readonly append: (line: string) => Promise<void>
  readonly point: (piece: string) => Promise<void>
  /** Writes what is buffered, flushed to disk when `durable`. */
  readonly drain: (durable: boolean) => Promise<void>
  /** Writes, flushes and closes the file (it reopens on the next write). */
  readonly close: () => Promise<void>
  readonly written: () => number
  readonly failure: () => TrackError | undefined
}

const POINTS_PER_LINE = 1000

/**
 * A settled promise: what `append` and `point` give when nothing had to wait.
 * @category constants
 * @since 0.3.0
 */
export const done: Promise<void> = Promise.resolve()

/**
 * The writer of the journal at `path`, which holds `size` bytes already (see the module's
 * description).
 * @category constructors
 * @since 0.3.0
 */
export const journalWriter = (
  path: string,
  size: number,
  flushIntervalMs: number,
  bufferBytes: number,
  platform: Pick<Platform, 'clock' | 'timers'>
): Writer => {
  let lines: Array<string> = []
  let points: Array<string> = []
  /** Characters waiting: whole lines, and the points of the line still open. */
  let buffered = 0
  let pointChars = 0
  let written = size
  let handle: FileHandle | undefined
  let queue = done
  let failure: TrackError | undefined
  let timer: (() => void) | undefined
  let lastWrite = platform.clock.now()

  const closeLine = (): void => {
    if (points.length === 0) return
    const line = Codecs.encodePoints(points)
    points = []
    lines.push(line)
    buffered += line.length - pointChars
    pointChars = 0
  }
  const io = (step: () => Promise<void>): Promise<void> =>
    (queue = queue.then(async () => {
      if (failure !== undefined) return
      try {
        await step()
      } catch (e) {
        failure = fileError(path, describeUnknown(e))
      }
    }))
  const drain = (durable: boolean): Promise<void> => {
    timer?.()
    timer = undefined
    closeLine()
    const data = Buffer.from(lines.join(''))
    lines = []
    buffered = 0
    lastWrite = platform.clock.now()
    return io(async () => {
      if (data.length > 0) {
        handle ??= await open(path, 'a')
        await handle.appendFile(data)
        written += data.length
      }
      if (durable && handle !== undefined) await handle.sync()
    })
  }
  // Data waits at most `flushIntervalMs`: a timer when the event loop is free, and a check
  // on every append for a producer that keeps it busy.
  const added = (): Promise<void> => {
    if (buffered >= bufferBytes || platform.clock.now() - lastWrite >= flushIntervalMs) return drain(buffered < bufferBytes)
    if (timer === undefined) {
      timer = platform.timers.after(flushIntervalMs, () => void drain(true))
    }
    return done
  }
  return {
    append: (line) => {
      closeLine()
      lines.push(line)
      buffered += line.length
      return added()
    },
    point: (piece) => {
      points.push(piece)
      buffered += piece.length
      pointChars += piece.length
      if (points.length >= POINTS_PER_LINE) closeLine()
      return added()
    },
    drain,
    close: async () => {
      await drain(true)
      await io(async () => {
        await handle?.close()
        handle = undefined
      })
    },
    written: () => written,
    failure: () => failure
  }
}
