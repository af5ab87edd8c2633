// A stand-in for `mlflow` on PATH, for the specs of `charmory-track server`. FAKE_MLFLOW says
// how it behaves:
//   serve      answers GET /health on --port; exits on SIGTERM
//   stubborn   the same, but ignores SIGTERM (only SIGKILL stops it)
//   die        the same, then exits with code 4 on its own after 2 s
//   crash      prints "boom" and exits with code 3 at once
//   nodriver   prints the traceback of a missing PostgreSQL driver and exits with code 1
//   hang       never listens
// It appends its arguments, one JSON line per start, to FAKE_MLFLOW_ARGS when set.
import { appendFileSync } from 'node:fs'
import { createServer } from 'node:http'

const args = process.argv.slice(2)
const mode = process.env['FAKE_MLFLOW'] ?? 'serve'
if (process.env['FAKE_MLFLOW_ARGS'] !== undefined) appendFileSync(process.env['FAKE_MLFLOW_ARGS'], `${JSON.stringify(args)}\n`)

const valueOf = (flag: string): string | undefined => {
  const i = args.indexOf(flag)
  if (i !== -1) return args[i + 1]
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1)
}

if (mode === 'crash') {
  process.stderr.write('boom\n')
  process.exit(3)
}
if (mode === 'nodriver') {
  process.stderr.write("Traceback (most recent call last):\n    import psycopg\nModuleNotFoundError: No module named 'psycopg'\n")
  process.exit(1)
}
if (mode === 'hang') {
  setInterval(() => undefined, 1000)
} else {
  const server = createServer((req, res) => {
    if (req.url === '/health') res.end('OK')
    else res.writeHead(404).end()
  })
  server.listen(Number(valueOf('--port')), valueOf('--host'))
  if (mode === 'stubborn') process.on('SIGTERM', () => process.stderr.write('not stopping\n'))
  else process.on('SIGTERM', () => process.exit(0))
  if (mode === 'die') setTimeout(() => process.exit(4), 2000)
}
