// A real primary with a streaming standby (pg_basebackup -R), for the replication checks.
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { freePort, pgBinDir, postgresUser, runPgProgram as run } from '@dbops/test-utils'

export interface ReplicaPair {
  primaryUrl: string
  standbyUrl: string
  stop(): Promise<void>
}

export async function startReplicaPair(): Promise<ReplicaPair> {
  const bin = pgBinDir()
  const asUser = postgresUser()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-health-repl-'))
  if (asUser) await chown(dir, asUser.uid, asUser.gid)
  await chmod(dir, 0o700)
  const primary = path.join(dir, 'primary')
  const standby = path.join(dir, 'standby')
  const [pport, sport] = [await freePort(), await freePort()]
  const opts = (port: number) =>
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c wal_receiver_status_interval=1`
  const stopAll = async () => {
    for (const data of [standby, primary])
      await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], asUser).catch(
        () => {},
      )
    await rm(dir, { recursive: true, force: true })
  }
  try {
    // --auth=trust also trusts replication connections from 127.0.0.1
    await run(
      path.join(bin, 'initdb'),
      ['-D', primary, '-U', 'postgres', '--auth=trust', '--no-sync'],
      asUser,
    )
    // The primary archives with a command that always fails, for the archiver check.
    await run(
      path.join(bin, 'pg_ctl'),
      [
        '-D',
        primary,
        '-w',
        '-l',
        path.join(dir, 'primary.log'),
        '-o',
        `${opts(pport)} -c archive_mode=on -c archive_command=false`,
        'start',
      ],
      asUser,
    )
    await run(
      path.join(bin, 'pg_basebackup'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(pport),
        '-U',
        'postgres',
        '-D',
        standby,
        '-R',
        '-X',
        'stream',
        '--no-sync',
        '-c',
        'fast',
      ],
      asUser,
    )
    await run(
      path.join(bin, 'pg_ctl'),
      ['-D', standby, '-w', '-l', path.join(dir, 'standby.log'), '-o', opts(sport), 'start'],
      asUser,
    )
  } catch (error) {
    await stopAll()
    throw error
  }
  return {
    primaryUrl: `postgres://postgres@127.0.0.1:${pport}/postgres`,
    standbyUrl: `postgres://postgres@127.0.0.1:${sport}/postgres`,
    stop: stopAll,
  }
}
