// Node's sampler: the real machine (names and plausible values), fake /proc folders for
// the fallbacks (no meminfo, no net/dev, a meminfo without cache figures), and a fake
// `nvidia-smi` (a shell script first on PATH, standing in for a binary this machine cannot
// have) for the GPU figures.
import t, { type Test } from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { SystemMetrics, nodePlatform } from 'charmory-track'
import { nodeTimers } from '../../lib/platform/node.js'
import { nodeSampler } from '../../lib/system/nodeSampler.js'
import { captureLogger } from '../support/behaviour.js'

t.test('the real machine gives every name MLflow logs', async (t) => {
  const s = nodeSampler({ logger: captureLogger().logger })
  const sample = await s.sample()
  // a machine with a GPU adds gpu_{i}_... figures (checked below with a fake nvidia-smi)
  const names = Object.keys(sample).filter((k) => !k.startsWith('gpu_'))
  t.strictSame(names.sort(), [...SystemMetrics.SYSTEM_METRIC_NAMES].sort())
  for (const [k, v] of Object.entries(sample)) t.ok(Number.isFinite(v) && v >= 0, `${k} = ${v}`)
  t.ok(sample['system_memory_usage_percentage']! <= 100)
  t.ok(sample['disk_usage_percentage']! <= 100)
  t.ok('cpu_utilization_percentage' in (await nodePlatform.systemSampler!(captureLogger().logger).sample()), "Node's platform samples with it")
})

// -------------------------------------------------------------------------------------
// GPU figures from a fake nvidia-smi
// -------------------------------------------------------------------------------------

interface FakeSmi {
  /** Folder to put first on PATH. */
  readonly bin: string
  /** What the next calls print. */
  readonly prints: (text: string) => void
  /** Makes the next calls fail (exit 9, a message on stderr), or succeed again. */
  readonly failing: (on: boolean) => void
  /** The argument lines of every call so far. */
  readonly calls: () => Array<string>
}

const fakeSmi = (t: Test): FakeSmi => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  const script = join(bin, 'nvidia-smi')
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `echo "$*" >> '${join(dir, 'calls')}'`,
      `if [ -f '${join(dir, 'fail')}' ]; then echo 'NVIDIA-SMI has failed: no driver' >&2; exit 9; fi`,
      `cat '${join(dir, 'out')}'`,
      ''
    ].join('\n')
  )
  chmodSync(script, 0o755)
  writeFileSync(join(dir, 'out'), '')
  return {
    bin,
    prints: (text) => writeFileSync(join(dir, 'out'), text),
    failing: (on) => (on ? writeFileSync(join(dir, 'fail'), '') : rmSync(join(dir, 'fail'), { force: true })),
    calls: () => {
      try {
        return readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter((l) => l !== '')
      } catch {
        return []
      }
    }
  }
}

/** PATH is `dirs` (then what it was, unless `alone`) until the test ends. */
const onPath = (t: Test, dirs: Array<string>, alone = false): void => {
  const before = process.env['PATH']
  process.env['PATH'] = alone ? dirs.join(delimiter) : [...dirs, before].join(delimiter)
  t.teardown(() => {
    process.env['PATH'] = before
  })
}

const QUERY = '--query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,power.limit --format=csv,noheader,nounits'
const TWO_GPUS = '0, 37, 8192, 16384, 120.5, 250.00\n1, 100, 1024, 10240, 300.25, 400.00\n'

const gpuOf = (sample: SystemMetrics.SystemSample): Record<string, number> =>
  Object.fromEntries(Object.entries(sample).filter(([k]) => k.startsWith('gpu_')))

t.test('nvidia-smi on PATH: every GPU under MLflow names, MiB as 10^6-byte megabytes', async (t) => {
  const smi = fakeSmi(t)
  onPath(t, [smi.bin])
  smi.prints(TWO_GPUS)
  const { logger, warnings } = captureLogger()
  const s = nodeSampler({ logger })
  const sample = await s.sample()
  t.strictSame(gpuOf(sample), {
    gpu_0_utilization_percentage: 37,
    gpu_0_memory_usage_megabytes: 8589.9, // 8192 MiB = 8589.934592 MB
    gpu_0_memory_usage_percentage: 50,
    gpu_0_power_usage_watts: 120.5,
    gpu_0_power_usage_percentage: 48.2,
    gpu_1_utilization_percentage: 100,
    gpu_1_memory_usage_megabytes: 1073.7, // 1024 MiB = 1073.741824 MB
    gpu_1_memory_usage_percentage: 10,
    gpu_1_power_usage_watts: 300.3, // 300.25 rounded
    gpu_1_power_usage_percentage: 75.1 // 75.0625 rounded
  })
  const names = SystemMetrics.GPU_METRIC_NAMES.flatMap((n) => [0, 1].map((i) => n.replace('{i}', String(i))))
  t.strictSame(Object.keys(gpuOf(sample)).sort(), names.sort(), 'exactly the names of MLflow\'s GPU monitor')
  t.ok('cpu_utilization_percentage' in sample, 'beside the other figures')
  t.strictSame(smi.calls(), [QUERY], 'one call a sample, with the CSV query')
  await s.sample()
  t.equal(smi.calls().length, 2)
  t.strictSame(warnings, [])
})

t.test('figures nvidia-smi does not report, and lines that do not parse, are left out', async (t) => {
  const smi = fakeSmi(t)
  onPath(t, [smi.bin])
  smi.prints(
    [
      '0, 12, 2048, 4096, [N/A], [N/A]',
      '1, [N/A], [N/A], 4096, 50, [Not Supported]',
      '2, 5, 100, 0, 10, 0',
      'garbage from a driver',
      '1.5, 1, 1, 1, 1, 1',
      'x, 1, 1, 1, 1, 1',
      '3, 1, 1, 1, 1',
      '4, -1, , 1, 1e3, 1',
      ''
    ].join('\n')
  )
  const { logger, warnings } = captureLogger()
  t.strictSame(gpuOf(await nodeSampler({ logger }).sample()), {
    gpu_0_utilization_percentage: 12,
    gpu_0_memory_usage_megabytes: 2147.5,
    gpu_0_memory_usage_percentage: 50,
    gpu_1_power_usage_watts: 50,
    gpu_2_utilization_percentage: 5,
    gpu_2_memory_usage_megabytes: 104.9,
    gpu_2_power_usage_watts: 10
    // nothing of GPU 4: "-1", "" and "1e3" are not figures
  }, 'no percentage over a zero or unknown total')
  t.strictSame(warnings, [], 'a malformed line is no failure')
})

t.test('no nvidia-smi: no GPU figures, no warning, and no second look', async (t) => {
  const smi = fakeSmi(t)
  const empty = mkdtempSync(join(tmpdir(), 'nobin-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  onPath(t, [empty], true)
  smi.prints(TWO_GPUS)
  const { logger, warnings } = captureLogger()
  const s = nodeSampler({ logger })
  const first = await s.sample()
  t.strictSame(gpuOf(first), {})
  t.ok('cpu_utilization_percentage' in first)
  process.env['PATH'] = [smi.bin, process.env['PATH']].join(delimiter)
  t.strictSame(gpuOf(await s.sample()), {}, 'probed once: an nvidia-smi that appears later is not used')
  t.strictSame(smi.calls(), [])
  t.strictSame(warnings, [])
})

t.test('nvidia-smi failing later: one warning, GPU sampling stops, the rest goes on', async (t) => {
  const smi = fakeSmi(t)
  onPath(t, [smi.bin])
  smi.prints(TWO_GPUS)
  const { logger, warnings } = captureLogger()
  const s = nodeSampler({ logger })
  t.equal(Object.keys(gpuOf(await s.sample())).length, 10)
  smi.failing(true)
  const failed = await s.sample()
  t.strictSame(gpuOf(failed), {})
  t.ok('cpu_utilization_percentage' in failed)
  t.equal(warnings.length, 1)
  t.match(warnings[0], /^GPU metrics stopped: nvidia-smi failed: .*NVIDIA-SMI has failed: no driver/s)
  smi.failing(false)
  const after = await s.sample()
  t.strictSame(gpuOf(after), {}, 'stopped for this sampler')
  t.ok('disk_usage_percentage' in after)
  t.equal(smi.calls().length, 2, 'not called again')
  t.equal(warnings.length, 1)
  t.equal(Object.keys(gpuOf(await nodeSampler({ logger }).sample())).length, 10, 'a new sampler (a new run) tries again')
})

t.test('nvidia-smi failing at the first call (present, no driver): one warning', async (t) => {
  const smi = fakeSmi(t)
  onPath(t, [smi.bin])
  smi.failing(true)
  const { logger, warnings } = captureLogger()
  const s = nodePlatform.systemSampler!(logger)
  t.strictSame(gpuOf(await s.sample()), {})
  t.equal(warnings.length, 1, 'through the logger the monitor gives')
  t.match(warnings[0], /^GPU metrics stopped: nvidia-smi failed/)
  await s.sample()
  t.equal(smi.calls().length, 1)
  t.equal(warnings.length, 1)
})

t.test('fake /proc folders: the counters since the start, and the fallbacks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'net'))
  const dev = (rx: number, tx: number): string =>
    `Inter-|   Receive\n face |bytes packets\n    lo: ${rx} 1 0 0 0 0 0 0 ${tx} 1 0 0 0 0 0 0\n  eth0: ${rx} 1 0 0 0 0 0 0 ${tx} 1 0 0 0 0 0 0\n`
  writeFileSync(join(dir, 'net', 'dev'), dev(1_000_000, 2_000_000))
  writeFileSync(join(dir, 'meminfo'), 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 200 kB\nSReclaimable: 100 kB\n')
  const s = nodeSampler({ proc: dir, disk: dir, logger: captureLogger().logger })
  writeFileSync(join(dir, 'net', 'dev'), dev(2_500_000, 2_000_000))
  const a = await s.sample()
  t.equal(a['network_receive_megabytes'], 3, 'both interfaces, since the sampler was made')
  t.equal(a['network_transmit_megabytes'], 0)
  t.equal(a['system_memory_usage_megabytes'], Math.round(500 * 1024 / 1e5) / 10)
  t.equal(a['system_memory_usage_percentage'], 50)
  writeFileSync(join(dir, 'meminfo'), 'MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 5000 kB\n')
  t.equal((await s.sample())['system_memory_usage_percentage'], 90, 'cache larger than the rest: used = total - free')
  writeFileSync(join(dir, 'meminfo'), 'MemTotal: 1000 kB\nMemFree: 400 kB\n')
  t.equal((await s.sample())['system_memory_usage_percentage'], 60, 'no cache figures')
  rmSync(join(dir, 'meminfo'))
  rmSync(join(dir, 'net'), { recursive: true })
  const off = await nodeSampler({ proc: dir, disk: dir, logger: captureLogger().logger }).sample()
  t.notOk('network_receive_megabytes' in off, 'no network figures without /proc/net/dev')
  t.ok(off['system_memory_usage_megabytes']! > 0, 'memory from node:os without /proc/meminfo')
})

t.test('nodeTimers repeats until cancelled', async (t) => {
  let n = 0
  let cancel: () => void = () => undefined
  const keepAlive = setTimeout(() => undefined, 60_000) // the timer itself is unref'd
  t.teardown(() => clearTimeout(keepAlive))
  await new Promise<void>((resolve) => {
    cancel = nodeTimers.every(1, () => {
      n += 1
      if (n === 2) resolve()
    })
  })
  cancel()
  t.equal(n, 2)
})
