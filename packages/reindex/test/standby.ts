// A real standby for the "refuse on a standby" test: a fresh cluster started with
// standby.signal sits in recovery and accepts read-only connections, as a replica does.
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { freePort, pgBinDir, postgresUser, runPgProgram as run } from '@dbops/test-utils'

export async function startStandby(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = pgBinDir()
  const asUser = postgresUser()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-standby-'))
  if (asUser) await chown(dir, asUser.uid, asUser.gid)
  await chmod(dir, 0o700)
  const data = path.join(dir, 'data')
  const port = await freePort()
  await run(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'],
    asUser,
  )
  await writeFile(path.join(data, 'standby.signal'), '')
  if (asUser) await chown(path.join(data, 'standby.signal'), asUser.uid, asUser.gid)
  await run(
    path.join(bin, 'pg_ctl'),
    [
      '-D',
      data,
      '-w',
      '-l',
      path.join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ],
    asUser,
  )
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], asUser).catch(
        () => {},
      )
      await rm(dir, { recursive: true, force: true })
    },
  }
}
