// Child processes of the bench (the Python client rows, the memory and profile runs): each
// reports one JSON line on stdout, is killed when it outlives its time limit, and every child
// still alive is killed when the bench stops, also on error or interrupt.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const live = new Set<ChildProcess>()
let closed = false

/** Kills every child and refuses to start more: the bench is stopping. */
export const killChildren = (): void => {
  closed = true
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}
process.once('exit', killChildren)

export const root = fileURLToPath(new URL('../..', import.meta.url))

/** The environment of a child: no coverage collection, no telemetry, loopback only. */
export const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MLFLOW_DISABLE_TELEMETRY: 'true',
    DO_NOT_TRACK: 'true',
    NO_PROXY: '127.0.0.1,localhost',
    ...extra
  }
  delete env['NODE_V8_COVERAGE']
  return env
}

/** Runs a command and resolves with the last JSON line it printed. */
export const runJson = <A>(
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv }
): Promise<A> =>
  new Promise((ok, fail) => {
    if (closed) return fail(new Error('the bench is stopping'))
    const child = spawn(command, args, { cwd: root, env: options.env ?? childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(child)
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.once('error', fail)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop()
      if (code === 0 && last !== undefined) return ok(JSON.parse(last) as A)
      const why = signal === 'SIGKILL' ? `killed after ${options.timeoutMs / 1000} s` : `exit ${code ?? signal}`
      fail(new Error(`${[command, ...args].join(' ')}: ${why}\n${err}`))
    })
  })

/** `node --import tsx --conditions=charmory-track-source <script> ...args`, with extra node flags. */
export const nodeTs = (script: string, args: ReadonlyArray<string>, nodeFlags: ReadonlyArray<string> = []): [string, Array<string>] => [
  process.execPath,
  [...nodeFlags, '--import', 'tsx', '--conditions=charmory-track-source', script, ...args]
]
