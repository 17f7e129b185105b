// The tools' process handling (src/subprocess.ts, over execa), in-process against real
// programs: what a failure says, which failure of a pipe wins, and that a reader that stops
// early neither fails the stream nor leaves bytes unread. (Long-running tools are `exec`ed:
// a grandchild holding the shell's stderr would keep it open after the shell was stopped.)
import { once } from 'node:events'
import { Readable, Writable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import { DbopsError } from 'dbops/plugin'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  chainTools,
  pipeTools,
  runTool,
  toolFilter,
  toolInput,
  toolOutput,
} from '../src/subprocess.ts'
import { streamInto } from '../src/restore-into.ts'

const sh = (script: string, options: Parameters<typeof runTool>[2] = {}) =>
  runTool('sh', ['-c', script], options)

/** The rejection of `promise`, failing the test when it resolves. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

const failures = suite('what a failed tool says')

failures('a non-zero exit names the program, the code and its last lines of stderr', async () => {
  const error = await failureOf(sh('echo one >&2; echo two >&2; exit 3').done)
  assert.instance(error, DbopsError)
  assert.is((error as DbopsError).code, 'TOOL_FAILED')
  assert.is(error.message, 'sh exited with code 3: one / two')
})

failures('a signal is named as such', async () => {
  const error = await failureOf(sh('kill -KILL $$').done)
  assert.is(error.message, 'sh was killed by SIGKILL')
})

failures('a missing program is TOOL_NOT_FOUND with its path', async () => {
  const error = (await failureOf(runTool('/nonexistent/pg_dump', []).done)) as DbopsError
  assert.is(error.code, 'TOOL_NOT_FOUND')
  assert.is(error.message, 'pg_dump was not found (/nonexistent/pg_dump)')
})

failures('secrets are scrubbed from stderr; explain words the failure', async () => {
  const tool = sh('echo "password hunter2 refused" >&2; exit 1', {
    secrets: ['hunter2'],
    explain: (stderr, how) => new Error(`explained: ${how}: ${stderr}`),
  })
  const error = await failureOf(tool.done)
  assert.not.match(error.message, /hunter2/)
  assert.match(error.message, /^explained: exited with code 1: password .* refused$/)
})

failures('the environment is minimal plus what is given: nothing else leaks in', async () => {
  process.env.DBOPS_TEST_LEAK = 'leaked'
  try {
    const out = await sh('echo "$PGPASSWORD/$DBOPS_TEST_LEAK"', {
      env: { PGPASSWORD: 'from-env' },
      buffer: true,
    }).done
    assert.is(out, 'from-env/')
  } finally {
    delete process.env.DBOPS_TEST_LEAK
  }
})

failures('an abort stops the tool and is the error, not its exit', async () => {
  const controller = new AbortController()
  const tool = sh('exec sleep 30', { signal: controller.signal })
  const reason = new Error('interrupted')
  controller.abort(reason)
  assert.is(await failureOf(tool.done), reason)
  assert.ok(tool.subprocess.signalCode === 'SIGTERM' || tool.subprocess.killed)
})

failures('a tool that ignores SIGTERM is killed (SIGKILL) after the grace period', async () => {
  const controller = new AbortController()
  // an ignored signal stays ignored across exec: sleep itself shrugs off SIGTERM
  const tool = sh("trap '' TERM; echo ready; exec sleep 60", {
    signal: controller.signal,
    stdout: 'pipe',
  })
  await once(tool.subprocess.stdout as Readable, 'data') // the trap is set
  controller.abort(new Error('interrupted'))
  await failureOf(tool.done)
  assert.is(tool.subprocess.signalCode, 'SIGKILL')
})

failures.run()

const streams = suite('tools as streams')

streams('toolOutput ends once the tool exited 0, and fails with its error otherwise', async () => {
  const ok = await buffer(toolOutput(sh('printf abc', { stdout: 'pipe' })))
  assert.is(ok.toString(), 'abc')
  const out = toolOutput(sh('printf abc; exit 2', { stdout: 'pipe' }))
  const error = await failureOf(buffer(out))
  assert.is(error.message, 'sh exited with code 2')
})

streams('toolFilter passes every byte through a filter and fails with the filter', async () => {
  const data = Buffer.alloc(3 << 20, 'x')
  const zstd = toolFilter('zstd', ['-q', '-c'])
  const unzstd = toolFilter('zstd', ['-q', '-d', '-c'])
  const back = await buffer(Readable.from([data]).pipe(zstd).pipe(unzstd))
  assert.ok(back.equals(data))
  const bad = toolFilter('zstd', ['-q', '-d', '-c'], { explain: () => new Error('corrupt') })
  const error = await failureOf(pipeline(Readable.from([Buffer.from('not zstd')]), bad, sink()))
  assert.is(error.message, 'corrupt')
})

streams('a reader that exits 0 before the end still lets the whole stream be read', async () => {
  // `head -c 10` exits after 10 bytes, as tar does at its end-of-archive marker
  const data = Buffer.alloc(4 << 20, 'y')
  let bytes = 0
  const source = Readable.from([data]).on('data', (chunk: Buffer) => {
    bytes += chunk.length
  })
  await pipeline(source, toolInput(sh('head -c 10 >/dev/null', { stdin: 'pipe' })))
  assert.is(bytes, data.length)
})

streams('a reader that fails early fails the stream with its own error, not EPIPE', async () => {
  const data = Buffer.alloc(4 << 20, 'z')
  const tool = sh('head -c 10 >/dev/null; echo "bad input" >&2; exit 1', { stdin: 'pipe' })
  const error = await failureOf(pipeline(Readable.from([data]), toolInput(tool)))
  assert.is(error.message, 'sh exited with code 1: bad input')
})

streams.run()

const pipes = suite('two tools joined by a pipe')

pipes('pipeTools: the writer failing wins over the reader seeing its input end', async () => {
  const writer = sh('printf partial; exit 4', { stdout: 'pipe' })
  const out = pipeTools(writer, (stdin) => runTool('cat', [], { stdin, stdout: 'pipe' }))
  const error = await failureOf(buffer(out))
  assert.is(error.message, 'sh exited with code 4')
})

pipes('pipeTools: one failing stops the other (a writer blocked forever ends too)', async () => {
  const writer = sh('exec sleep 30', { stdout: 'pipe' })
  const out = pipeTools(writer, (stdin) =>
    runTool('sh', ['-c', 'exit 5'], { stdin, stdout: 'pipe' }),
  )
  const error = await failureOf(buffer(out))
  // the writer was stopped because the reader failed: the reader's exit is what happened
  assert.match(error.message, /^sh (was killed by SIGTERM|exited with code 5)$/)
  await writer.done.catch(() => {})
  assert.is.not(writer.subprocess.exitCode, 0)
})

pipes(
  'pipeTools: data flows from one to the other and the stream ends when both exited 0',
  async () => {
    const out = pipeTools(sh('printf hello', { stdout: 'pipe' }), (stdin) =>
      runTool('tr', ['a-z', 'A-Z'], { stdin, stdout: 'pipe' }),
    )
    assert.is((await buffer(out)).toString(), 'HELLO')
  },
)

pipes(
  'chainTools: the reader failing wins, unless the writer says the input is corrupt',
  async () => {
    const feed = (tool: ReturnType<typeof chainTools>) =>
      streamInto(Readable.from([Buffer.from('data')]), [], tool)
    const first = sh('cat', { stdin: 'pipe', stdout: 'pipe' })
    const reader = sh('cat >/dev/null; echo "restore failed" >&2; exit 1', {
      stdin: first.subprocess.stdout as Readable,
    })
    assert.is(
      (await failureOf(feed(chainTools(first, reader)))).message,
      'sh exited with code 1: restore failed',
    )
    const corrupt = sh('cat >/dev/null; exit 1', {
      stdin: 'pipe',
      stdout: 'pipe',
      explain: () => new DbopsError('BACKUP_CORRUPT', 'the backup could not be decompressed'),
    })
    const next = sh('cat >/dev/null; exit 1', { stdin: corrupt.subprocess.stdout as Readable })
    const error = (await failureOf(feed(chainTools(corrupt, next)))) as DbopsError
    assert.is(error.code, 'BACKUP_CORRUPT')
  },
)

pipes.run()

function sink(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() })
}
