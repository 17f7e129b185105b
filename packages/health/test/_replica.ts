// A real primary with a streaming standby (pg_basebackup -R), for the replication checks.
import { execFileSync, spawn } from 'node:child_process'
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises'
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

export interface ReplicaPair {
  primaryUrl: string
  standbyUrl: string
  stop(): Promise<void>
}

export async function startReplicaPair(): Promise<ReplicaPair> {
  const bin = pgBinDir()
  const asUser = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : undefined
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-health-repl-'))
  if (asUser) await chown(dir, asUser.uid, asUser.gid)
  await chmod(dir, 0o700)
  const primary = path.join(dir, 'primary')
  const standby = path.join(dir, 'standby')
  const [pport, sport] = [await freePort(), await freePort()]
  const opts = (port: number) => `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c wal_receiver_status_interval=1`
  const stopAll = async () => {
    for (const data of [standby, primary]) await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], asUser).catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
  try {
    // --auth=trust also trusts replication connections from 127.0.0.1
    await run(path.join(bin, 'initdb'), ['-D', primary, '-U', 'postgres', '--auth=trust', '--no-sync'], asUser)
    // The primary archives with a command that always fails, for the archiver check.
    await run(path.join(bin, 'pg_ctl'), ['-D', primary, '-w', '-l', path.join(dir, 'primary.log'), '-o', `${opts(pport)} -c archive_mode=on -c archive_command=false`, 'start'], asUser)
    await run(path.join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(pport), '-U', 'postgres', '-D', standby, '-R', '-X', 'stream', '--no-sync', '-c', 'fast'], asUser)
    await run(path.join(bin, 'pg_ctl'), ['-D', standby, '-w', '-l', path.join(dir, 'standby.log'), '-o', opts(sport), 'start'], asUser)
  } catch (error) {
    await stopAll()
    throw error
  }
  return { primaryUrl: `postgres://postgres@127.0.0.1:${pport}/postgres`, standbyUrl: `postgres://postgres@127.0.0.1:${sport}/postgres`, stop: stopAll }
}
