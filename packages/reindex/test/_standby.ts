// A real standby for the "refuse on a standby" test: a fresh cluster started with
// standby.signal sits in recovery and accepts read-only connections, as a replica does.
import { execFileSync, spawn } from 'node:child_process'
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { pgBinDir } from '../../../test/harness/index.ts'

function run(cmd: string, args: string[], asUser?: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(asUser ?? {}) })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} exited ${code}: ${out}`))))
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export async function startStandby(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = pgBinDir()
  const asUser = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : undefined
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-standby-'))
  if (asUser) await chown(dir, asUser.uid, asUser.gid)
  await chmod(dir, 0o700)
  const data = path.join(dir, 'data')
  const port = await freePort()
  await run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'], asUser)
  await writeFile(path.join(data, 'standby.signal'), '')
  if (asUser) await chown(path.join(data, 'standby.signal'), asUser.uid, asUser.gid)
  await run(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'], asUser)
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], asUser).catch(() => {})
      await rm(dir, { recursive: true, force: true })
    },
  }
}
