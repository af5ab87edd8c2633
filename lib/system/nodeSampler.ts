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
 * - per GPU, when `nvidia-smi` is on the `PATH` (MLflow reads the same figures through NVIDIA's
 *   library): `gpu_{i}_utilization_percentage`, `gpu_{i}_memory_usage_megabytes`,
 *   `gpu_{i}_memory_usage_percentage`, `gpu_{i}_power_usage_watts` and
 *   `gpu_{i}_power_usage_percentage` (draw over the enforced limit), `i` being the GPU's index.
 *   A figure `nvidia-smi` does not report (`[N/A]`) is left out. Without `nvidia-smi` there
 *   are no GPU figures, silently; a call that fails is warned about once and ends GPU sampling,
 *   the other figures go on.
 *
 * Megabytes are 10^6 bytes (`nvidia-smi`'s MiB are converted, as MLflow divides NVML's bytes
 * by 10^6); CPU, memory, disk and GPU figures are rounded to one decimal, as MLflow's monitor
 * rounds them.
 *
 * @since 0.2.0
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile, statfs } from 'node:fs/promises'
import { cpus, freemem, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Logger, SystemSampler } from '../platform/Platform.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Where the sampler looks: `proc` (`/proc`) and the file system measured (`/`); `logger` gets
 * the warning of a failing `nvidia-smi`.
 * @category model
 * @since 0.2.0
 */
export interface NodeSamplerOptions {
  readonly proc?: string
  readonly disk?: string
  readonly logger: Logger
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

const NVIDIA_SMI = 'nvidia-smi'
const GPU_QUERY = [
  '--query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,power.limit',
  '--format=csv,noheader,nounits'
]
const GPU_TIMEOUT_MS = 5_000
const MIB = 1024 * 1024

/** A field of `nvidia-smi`'s CSV as a number, or undefined (`[N/A]`, `[Not Supported]`, ...). */
const figure = (field: string): number | undefined => {
  const text = field.trim()
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined
}

/**
 * The GPU figures of `nvidia-smi`'s output, under MLflow's names: a line that is not six
 * fields with an integer index is skipped, and so is a figure that is not a number.
 */
const gpuFigures = (text: string): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const fields = line.split(',')
    if (fields.length !== 6) continue
    const [index, util, used, total, draw, limit] = fields.map(figure)
    if (index === undefined || !Number.isInteger(index)) continue
    const put = (name: string, value: number | undefined): void => {
      if (value !== undefined) out[`gpu_${index}_${name}`] = round1(value)
    }
    put('utilization_percentage', util)
    put('memory_usage_megabytes', used === undefined ? undefined : (used * MIB) / MB)
    put('memory_usage_percentage', used === undefined || !total ? undefined : (used / total) * 100)
    put('power_usage_watts', draw)
    put('power_usage_percentage', draw === undefined || !limit ? undefined : (draw / limit) * 100)
  }
  return out
}

/** What `nvidia-smi` printed, or why it could not be run. */
const runNvidiaSmi = (): Promise<{ readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: Error }> =>
  new Promise((resolve) => {
    execFile(NVIDIA_SMI, GPU_QUERY, { timeout: GPU_TIMEOUT_MS, windowsHide: true }, (error, stdout) => {
      resolve(error === null ? { ok: true, text: stdout } : { ok: false, error })
    })
  })

/**
 * GPU sampling of one sampler: the first call tells whether `nvidia-smi` exists (ENOENT: no GPU
 * figures, no warning); any other failure warns once and ends GPU sampling.
 */
const gpuSampler = (logger: Logger): (() => Promise<Record<string, number>>) => {
  let state: 'probe' | 'on' | 'off' = 'probe'
  return async () => {
    if (state === 'off') return {}
    const result = await runNvidiaSmi()
    if (result.ok) {
      state = 'on'
      return gpuFigures(result.text)
    }
    const absent = state === 'probe' && (result.error as NodeJS.ErrnoException).code === 'ENOENT'
    state = 'off'
    if (!absent) logger.warn(`GPU metrics stopped: ${NVIDIA_SMI} failed: ${result.error.message.trim()}`)
    return {}
  }
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * A sampler for one run: CPU times and network counters count from now; GPU figures come from
 * `nvidia-smi` when it is on the `PATH`.
 * @category instances
 * @since 0.2.0
 */
export const nodeSampler = (options: NodeSamplerOptions): SystemSampler => {
  const proc = options.proc ?? '/proc'
  const disk = options.disk ?? '/'
  let cpu = cpuTimes()
  const start = traffic(readTextNow(join(proc, 'net', 'dev')))
  const gpu = gpuSampler(options.logger)
  return {
    sample: async () => {
      const gpus = gpu()
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
      return { ...out, ...(await gpus) }
    }
  }
}
