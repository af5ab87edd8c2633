/**
 * Node's system sampler: the figures MLflow's monitor takes with `psutil`, read from
 * `node:os`, `statfs` and, on Linux, `/proc/meminfo` and `/proc/net/dev`.
 *
 * - `cpu_utilization_percentage`: busy share of every core since the previous sample
 *   (`os.cpus()` times), like `psutil.cpu_percent()`;
 * - `system_memory_usage_megabytes` / `_percentage`: used = total - free - buffers - cached
 *   (psutil's `virtual_memory().used` on Linux), `os.totalmem() - os.freemem()` elsewhere;
 * - `disk_usage_megabytes`, `disk_available_megabytes`, `disk_usage_percentage`: the file
 *   system of `/` (psutil's `disk_usage(os.sep)`);
 * - `network_receive_megabytes` / `_transmit_megabytes`: bytes over every interface since
 *   the sampler was made (Linux only; left out where `/proc/net/dev` cannot be read).
 *
 * Megabytes are 10^6 bytes; CPU, memory and disk figures are rounded to one decimal, as
 * MLflow's monitor rounds them. No GPU figures: MLflow reads those through NVIDIA's library,
 * which this package does not bind.
 *
 * @since 0.2.0
 */
import { readFileSync } from 'node:fs'
import { readFile, statfs } from 'node:fs/promises'
import { cpus, freemem, totalmem } from 'node:os'
import { join } from 'node:path'
import type { SystemSampler, SystemMetricsSupport, Timers } from '../SystemMetrics.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Where the sampler looks: `proc` (`/proc`) and the file system measured (`/`).
 * @category model
 * @since 0.2.0
 */
export interface NodeSamplerOptions {
  readonly proc?: string
  readonly disk?: string
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const MB = 1e6
const round1 = (n: number): number => Math.round(n * 10) / 10

const readText = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

interface CpuTimes {
  readonly busy: number
  readonly total: number
}

const cpuTimes = (): CpuTimes => {
  let busy = 0
  let total = 0
  for (const c of cpus()) {
    const { user, nice, sys, irq, idle } = c.times
    busy += user + nice + sys + irq
    total += user + nice + sys + irq + idle
  }
  return { busy, total }
}

/** Memory used, in bytes, and the total: /proc/meminfo when readable, `node:os` otherwise. */
const memory = async (proc: string): Promise<{ readonly used: number; readonly total: number }> => {
  const text = await readText(join(proc, 'meminfo'))
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text ?? '')?.[1] ?? NaN) * 1024
  const total = kb('MemTotal')
  const free = kb('MemFree')
  if (!Number.isFinite(total) || !Number.isFinite(free)) return { used: totalmem() - freemem(), total: totalmem() }
  const cached = (kb('Cached') || 0) + (kb('SReclaimable') || 0)
  const used = total - free - cached - (kb('Buffers') || 0)
  return { used: used < 0 ? total - free : used, total }
}

/** Bytes received and sent over every interface since boot (the text of /proc/net/dev). */
const traffic = (text: string | undefined): { readonly rx: number; readonly tx: number } | undefined => {
  if (text === undefined) return undefined
  let rx = 0
  let tx = 0
  for (const line of text.split('\n').slice(2)) {
    const fields = line.slice(line.indexOf(':') + 1).trim().split(/\s+/)
    if (fields.length < 9) continue
    rx += Number(fields[0])
    tx += Number(fields[8])
  }
  return { rx, tx }
}

/** The baseline, read at once so that it counts from the sampler's creation. */
const readTextNow = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * A sampler for one run: CPU times and network counters count from now.
 * @category instances
 * @since 0.2.0
 */
export const nodeSampler = (options: NodeSamplerOptions = {}): SystemSampler => {
  const proc = options.proc ?? '/proc'
  const disk = options.disk ?? '/'
  let cpu = cpuTimes()
  const start = traffic(readTextNow(join(proc, 'net', 'dev')))
  return {
    sample: async () => {
      const now = cpuTimes()
      const spent = now.total - cpu.total
      const cpuPercent = ((now.busy - cpu.busy) / Math.max(1, spent)) * 100
      cpu = now
      const mem = await memory(proc)
      const fs = await statfs(disk)
      const used = (fs.blocks - fs.bfree) * fs.bsize
      const available = fs.bavail * fs.bsize
      const out: Record<string, number> = {
        cpu_utilization_percentage: round1(cpuPercent),
        system_memory_usage_megabytes: round1(mem.used / MB),
        system_memory_usage_percentage: round1((mem.used / mem.total) * 100),
        disk_usage_percentage: round1((used / Math.max(1, used + available)) * 100),
        disk_usage_megabytes: round1(used / MB),
        disk_available_megabytes: round1(available / MB)
      }
      const net = traffic(await readText(join(proc, 'net', 'dev')))
      if (start !== undefined && net !== undefined) {
        out['network_receive_megabytes'] = (net.rx - start.rx) / MB
        out['network_transmit_megabytes'] = (net.tx - start.tx) / MB
      }
      return out
    }
  }
}

/**
 * `setInterval`, unref'd so that a forgotten monitor never keeps the process alive.
 * @category instances
 * @since 0.2.0
 */
export const nodeTimers: Timers = {
  every: (ms, f) => {
    const handle = setInterval(f, ms)
    handle.unref()
    return () => clearInterval(handle)
  }
}

/**
 * Node's system metrics: `nodeSampler`, `nodeTimers` and `process.env`.
 * @category instances
 * @since 0.2.0
 */
export const nodeSystemMetrics = (options: NodeSamplerOptions = {}): SystemMetricsSupport => ({
  sampler: () => nodeSampler(options),
  timers: nodeTimers,
  vars: process.env
})
