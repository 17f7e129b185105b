// `pnpm demo` is a newcomer's first run: it must keep working. This runs the real script as
// `pnpm demo` does, in its own process, with a DATABASE_URL that must be left alone.
import { spawn } from 'node:child_process'
import { readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { REPO_ROOT } from '@dbops/test-utils'
import { repoTempDir } from '@dbops/test-utils'

interface DemoRun {
  pid: number
  code: number | null
  stdout: string
  stderr: string
}

function runDemo(env: Record<string, string>, interruptWhen?: RegExp): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/demo.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that an interrupt reaches the demo and the dbops it runs
      // at once, as Ctrl-C in a terminal does.
      detached: true,
    })
    let stdout = ''
    let stderr = ''
    let interrupted = false
    child.stdout.on('data', (d) => {
      stdout += d
      if (interruptWhen && !interrupted && interruptWhen.test(stdout)) {
        interrupted = true
        process.kill(-child.pid!, 'SIGINT')
      }
    })
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ pid: child.pid!, code, stdout, stderr }))
  })
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** True while any process of the group is alive: the demo, a dbops it ran, pg_dump, postgres. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

/** Whether the port still accepts after up to 15 s of grace (a loaded machine stops slowly) for a shutdown in progress. */
async function stillListening(port: number): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    if (!(await portAccepts(port))) return false
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return true
}

const portOf = (stdout: string) => Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1])

let backupDir: string
test.before(async () => {
  backupDir = await repoTempDir('demo-backups-')
})
test.after(async () => {
  if (backupDir) await rm(backupDir, { recursive: true, force: true })
})

test('pnpm demo: migrate, data, backup, health, optimize, restore, all matching; then the database is gone', async () => {
  // A DATABASE_URL pointing nowhere proves the demo never uses the user's database.
  const run = await runDemo({
    DEMO_BACKUP_DIR: backupDir,
    DEMO_SCALE: '0.2',
    DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/production',
  })
  assert.is(run.code, 0, `demo exited ${run.code}:\n${run.stdout}\n${run.stderr}`)
  for (const step of [
    '$ dbops run setup',
    '$ dbops run backup',
    '$ dbops health',
    '$ dbops run optimize',
    '$ dbops backups restore',
  ]) {
    assert.ok(run.stdout.includes(step), `the demo shows the command: ${step}`)
  }
  assert.match(run.stdout, /analytics\s+10000\s+10000\n/)
  assert.not.match(run.stdout, /MISMATCH/)
  assert.match(run.stdout, /All done in [\d.]+s: 13420 rows backed up, verified and restored/)
  // The printed location holds the set: its manifest and its dump.
  const id = /The backup:\s+(\S+)/.exec(run.stdout)?.[1]
  assert.ok(id, 'the demo names its backup')
  const files = await readdir(backupDir, { recursive: true })
  assert.ok(
    files.some((f) => f.endsWith(path.join(id!, 'manifest.json'))),
    `manifest of ${id} in ${files.join(', ')}`,
  )
  assert.match(
    run.stdout,
    new RegExp(`pnpm dbops backups restore ${id} --target-db aipromotdb --create`),
  )
  assert.not.ok(run.stdout.includes('secret') || run.stderr.includes('secret'))
  const port = portOf(run.stdout)
  assert.ok(port > 0)
  assert.not.ok(
    await stillListening(port),
    `the throwaway PostgreSQL is stopped:\n${run.stdout}\n${run.stderr}`,
  )
})

test('Ctrl-C during the demo stops it with 130 and leaves no database running', async () => {
  const run = await runDemo(
    { DEMO_BACKUP_DIR: backupDir, DEMO_SCALE: '0.05' },
    /\$ dbops run backup/,
  )
  assert.is(run.code, 130, `exit ${run.code}:\n${run.stdout}\n${run.stderr}`)
  assert.match(run.stdout, /SIGINT: stopping the demo/)
  const port = portOf(run.stdout)
  assert.ok(port > 0)
  assert.not.ok(
    await stillListening(port),
    `the throwaway PostgreSQL is stopped:\n${run.stdout}\n${run.stderr}`,
  )
  for (let i = 0; i < 150 && groupAlive(run.pid); i++)
    await new Promise((resolve) => setTimeout(resolve, 100))
  assert.not.ok(groupAlive(run.pid), 'no process of the demo is left running')
})

test.run()
