// Enough of tap's `Test` for a shared suite to run inside a browser page, with tap's own
// comparisons (tcompare: `strictSame`, `match`, ... mean there what they mean under tap).
// Subtests run one after another, in the order they were started, as under tap; each
// subtest's teardowns run when it ends. The outcome is a plain tree of cases and assertions
// that the page hands back to Node, where spec/browser/ replays it as tap subtests.
//
// A case that needs a file system (`t.testdir`) cannot run in a browser: it stops there and
// is reported skipped with that reason, never passed.
import * as compare from 'tcompare'

export interface Assertion {
  readonly ok: boolean
  readonly message: string
  readonly diff?: string
}

export interface CaseReport {
  readonly name: string
  readonly assertions: ReadonlyArray<Assertion>
  readonly cases: ReadonlyArray<CaseReport>
  readonly comments: ReadonlyArray<string>
  /** Why the case did not run to its end in a browser, when it did not. */
  readonly skipped?: string
  /** What the case threw, when it threw. */
  readonly error?: string
}

class NeedsNode extends Error {}

type Body = (t: PageTest) => unknown

const text = (e: unknown): string => (e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e))

/** One test: its assertions, its subtests (run in order) and its teardowns. */
export class PageTest {
  private readonly assertions: Array<Assertion> = []
  private readonly cases: Array<PageTest> = []
  private readonly comments: Array<string> = []
  private readonly teardowns: Array<() => unknown> = []
  private queue: Promise<void> = Promise.resolve()
  private pending = 0
  private skipped: string | undefined
  private error: string | undefined

  constructor(readonly name: string) {}

  // -------------------------------------------------------------------------------------
  // structure
  // -------------------------------------------------------------------------------------

  test(name: string, optionsOrBody: object | Body, maybeBody?: Body): Promise<void> {
    const [options, body]: [{ skip?: unknown; todo?: unknown }, Body | undefined] =
      typeof optionsOrBody === 'function' ? [{}, optionsOrBody as Body] : [optionsOrBody, maybeBody]
    const child = new PageTest(name)
    this.cases.push(child)
    this.pending++
    const done = this.queue.then(async () => {
      if (options.skip !== undefined && options.skip !== false) child.skipped = `skipped: ${String(options.skip)}`
      else if (options.todo !== undefined && options.todo !== false) child.skipped = `todo: ${String(options.todo)}`
      else if (body !== undefined) await child.run(body)
      this.pending--
    })
    this.queue = done
    return done
  }

  /** Runs `body`, then every subtest it started (also those started late), then the teardowns. */
  async run(body: Body): Promise<void> {
    try {
      await body(this)
    } catch (e) {
      if (e instanceof NeedsNode) this.skipped = e.message
      else this.error = text(e)
    }
    while (this.pending > 0) await this.queue
    for (const teardown of this.teardowns.reverse()) {
      try {
        await teardown()
      } catch (e) {
        this.error ??= `teardown failed: ${text(e)}`
      }
    }
  }

  teardown(f: () => unknown): void {
    this.teardowns.push(f)
  }

  testdir(): never {
    throw new NeedsNode('needs a file system (t.testdir), which a browser page does not have')
  }

  comment(...message: Array<unknown>): void {
    this.comments.push(message.map(String).join(' '))
  }

  report(): CaseReport {
    return {
      name: this.name,
      assertions: this.assertions,
      cases: this.cases.map((c) => c.report()),
      comments: this.comments,
      ...(this.skipped === undefined ? {} : { skipped: this.skipped }),
      ...(this.error === undefined ? {} : { error: this.error })
    }
  }

  // -------------------------------------------------------------------------------------
  // assertions
  // -------------------------------------------------------------------------------------

  private assert(ok: boolean, message: string, diff?: string): boolean {
    this.assertions.push(ok || diff === undefined ? { ok, message } : { ok, message, diff })
    return ok
  }

  private compared(result: compare.Result, message: string): boolean {
    return this.assert(result.match, message, result.diff)
  }

  pass(message = '(unnamed test)'): boolean {
    return this.assert(true, message)
  }
  fail(message = 'fail'): boolean {
    return this.assert(false, message)
  }
  ok(value: unknown, message = 'expect truthy value'): boolean {
    return this.assert(Boolean(value), message)
  }
  notOk(value: unknown, message = 'expect falsey value'): boolean {
    return this.assert(!value, message)
  }
  equal(found: unknown, wanted: unknown, message = 'should be equal'): boolean {
    return this.assert(Object.is(found, wanted), message, `found ${compare.format(found)}, wanted ${compare.format(wanted)}`)
  }
  not(found: unknown, doNotWant: unknown, message = 'should not be equal'): boolean {
    return this.assert(!Object.is(found, doNotWant), message, `found ${compare.format(found)}`)
  }
  type(found: unknown, type: string | (new (...args: Array<never>) => unknown), message = 'type is ' + String(type)): boolean {
    const ok = typeof type === 'string' ? typeof found === type : found instanceof type
    return this.assert(ok, message, `found a ${typeof found}`)
  }
  same(found: unknown, wanted: unknown, message = 'should be equivalent'): boolean {
    return this.compared(compare.same(found, wanted), message)
  }
  notSame(found: unknown, wanted: unknown, message = 'should not be equivalent'): boolean {
    return this.assert(!compare.same(found, wanted).match, message)
  }
  strictSame(found: unknown, wanted: unknown, message = 'should be equivalent strictly'): boolean {
    return this.compared(compare.strict(found, wanted), message)
  }
  strictNotSame(found: unknown, wanted: unknown, message = 'should not be equivalent strictly'): boolean {
    return this.assert(!compare.strict(found, wanted).match, message)
  }
  has(found: unknown, wanted: unknown, message = 'should contain all provided fields'): boolean {
    return this.compared(compare.has(found, wanted), message)
  }
  hasStrict(found: unknown, wanted: unknown, message = 'should contain all provided fields strictly'): boolean {
    return this.compared(compare.hasStrict(found, wanted), message)
  }
  match(found: unknown, pattern: unknown, message = 'should match pattern provided'): boolean {
    return this.compared(compare.match(found, pattern), message)
  }
  notMatch(found: unknown, pattern: unknown, message = 'should not match pattern provided'): boolean {
    return this.assert(!compare.match(found, pattern).match, message)
  }
  throws(f: () => unknown, wanted?: unknown, message = 'expected to throw'): boolean {
    try {
      f()
    } catch (e) {
      return wanted === undefined ? this.pass(message) : this.match(e, wanted, message)
    }
    return this.fail(message)
  }
  async rejects(p: Promise<unknown> | (() => Promise<unknown>), wanted?: unknown, message = 'expect rejected Promise'): Promise<boolean> {
    try {
      await (typeof p === 'function' ? p() : p)
    } catch (e) {
      return wanted === undefined ? this.pass(message) : this.match(e, wanted, message)
    }
    return this.fail(message)
  }
  async resolves(p: Promise<unknown> | (() => Promise<unknown>), message = 'expect resolving Promise'): Promise<boolean> {
    try {
      await (typeof p === 'function' ? p() : p)
      return this.pass(message)
    } catch (e) {
      return this.fail(`${message}: ${text(e)}`)
    }
  }
  async resolveMatch(p: Promise<unknown> | (() => Promise<unknown>), pattern: unknown, message = 'expect resolving Promise'): Promise<boolean> {
    try {
      return this.match(await (typeof p === 'function' ? p() : p), pattern, message)
    } catch (e) {
      return this.fail(`${message}: ${text(e)}`)
    }
  }
}

/** A root test for a page; run a suite on it, then hand `report()` back to Node. */
export const pageTest = (name: string): PageTest => new PageTest(name)
