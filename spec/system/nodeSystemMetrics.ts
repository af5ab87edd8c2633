// Node's sampler: the real machine (names and plausible values), and fake /proc folders for
// the fallbacks (no meminfo, no net/dev, a meminfo without cache figures).
import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeSampler, nodeSystemMetrics, nodeTimers, SystemMetrics } from 'charmory-track'

t.test('the real machine gives every name MLflow logs', async (t) => {
  const s = nodeSampler()
  const sample = await s.sample()
  t.strictSame(Object.keys(sample).sort(), [...SystemMetrics.SYSTEM_METRIC_NAMES].sort())
  for (const [k, v] of Object.entries(sample)) t.ok(Number.isFinite(v) && v >= 0, `${k} = ${v}`)
  t.ok(sample['system_memory_usage_percentage']! <= 100)
  t.ok(sample['disk_usage_percentage']! <= 100)
  const support = nodeSystemMetrics()
  t.equal(support.vars, process.env)
  t.ok('cpu_utilization_percentage' in (await support.sampler().sample()))
})

t.test('fake /proc folders: the counters since the start, and the fallbacks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'net'))
  const dev = (rx: number, tx: number): string =>
    `Inter-|   Receive\n face |bytes packets\n    lo: ${rx} 1 0 0 0 0 0 0 ${tx} 1 0 0 0 0 0 0\n  eth0: ${rx} 1 0 0 0 0 0 0 ${tx} 1 0 0 0 0 0 0\n`
  writeFileSync(join(dir, 'net', 'dev'), dev(1_000_000, 2_000_000))
  writeFileSync(join(dir, 'meminfo'), 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 200 kB\nSReclaimable: 100 kB\n')
  const s = nodeSampler({ proc: dir, disk: dir })
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
  const off = await nodeSampler({ proc: dir, disk: dir }).sample()
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
