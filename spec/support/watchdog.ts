// A watchdog for the servers a spec or the bench starts: a detached shell that waits while its
// owner (the test process) lives, then runs a clean-up command. It covers what an `exit`
// handler cannot: an owner killed by a signal (tap's timeout, Ctrl+C on a bench, SIGKILL).
// The owner cancels it once it has cleaned up itself.
import { spawn } from 'node:child_process'

export interface Watchdog {
  /** The owner cleaned up: the watchdog leaves without running its command. */
  readonly cancel: () => void
}

/** Runs the shell command `onDeath` once the process `owner` (this one by default) is gone. */
export const watchdog = (onDeath: string, owner: number = process.pid): Watchdog => {
  const script = `while kill -0 ${owner} 2>/dev/null; do sleep 1; done; ${onDeath}`
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' })
  child.unref()
  return {
    cancel: () => {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}
