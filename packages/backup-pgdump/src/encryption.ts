import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { PassThrough, Readable, type Duplex, Duplex as DuplexClass } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DbopsError } from 'dbops/plugin'

import { toolAnswers, toolFilter } from './subprocess.ts'

export type AgeEngine = 'auto' | 'cli' | 'library'

let ageAvailable: Promise<boolean> | undefined
function hasAgeCli(): Promise<boolean> {
  ageAvailable ??= toolAnswers('age')
  return ageAvailable
}

async function useCli(engine: AgeEngine): Promise<boolean> {
  if (engine === 'library') return false
  const cli = await hasAgeCli()
  if (engine === 'cli' && !cli)
    throw new DbopsError(
      'AGE_NOT_FOUND',
      "encryption.engine is 'cli' but the age command was not found on PATH",
      { hint: "Install age (apt install age) or use engine: 'auto'." },
    )
  return cli
}

/** A stream that encrypts to the recipients in the standard age format (`age -d -i key.txt` reads it). */
export async function encryptor(
  recipients: string[],
  engine: AgeEngine,
  signal?: AbortSignal,
): Promise<Duplex> {
  if (await useCli(engine))
    return toolFilter(
      'age',
      recipients.flatMap((r) => ['-r', r]),
      { signal },
    )
  const { Encrypter } = await import('age-encryption') // loaded only when the age CLI is not used
  const encrypter = new Encrypter()
  for (const r of recipients) encrypter.addRecipient(r)
  return webTransform((input) => encrypter.encrypt(input))
}

/** The identity for verify and restore: DBOPS_AGE_IDENTITY, DBOPS_AGE_IDENTITY_FILE or the configured file. */
export async function loadIdentity(
  identityFile: string | undefined,
  configDir: string,
): Promise<{ keys: string[]; source: string; file?: string }> {
  let text: string | undefined
  let source: string
  let file: string | undefined
  if (process.env.DBOPS_AGE_IDENTITY) {
    text = process.env.DBOPS_AGE_IDENTITY
    source = 'DBOPS_AGE_IDENTITY'
  } else {
    file =
      process.env.DBOPS_AGE_IDENTITY_FILE ||
      (identityFile ? path.resolve(configDir, identityFile) : undefined)
    source = process.env.DBOPS_AGE_IDENTITY_FILE
      ? `DBOPS_AGE_IDENTITY_FILE (${file})`
      : `encryption.identityFile (${file})`
    if (!file) {
      throw new DbopsError(
        'AGE_IDENTITY_MISSING',
        'this backup is encrypted and no age identity is available to decrypt it',
        {
          hint: 'Set DBOPS_AGE_IDENTITY to the AGE-SECRET-KEY-1... line, or DBOPS_AGE_IDENTITY_FILE to the key file made by age-keygen.',
        },
      )
    }
    text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new DbopsError(
        'AGE_IDENTITY_UNREADABLE',
        `the age identity file could not be read: ${error.code ?? error.message}`,
        { hint: `Check ${source}.` },
      )
    })
  }
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-1'))
  if (keys.length === 0)
    throw new DbopsError(
      'AGE_IDENTITY_INVALID',
      `${source} holds no age identity (a line starting with AGE-SECRET-KEY-1)`,
      { hint: 'Use the key file written by age-keygen.' },
    )
  return { keys, source, file }
}

/**
 * Fails before any byte is read when none of the identities matches a recipient the backup
 * was encrypted to: a wrong key stops a restore before the target is touched.
 */
export async function assertIdentityMatches(
  keys: string[],
  recipients: string[],
  source: string,
): Promise<void> {
  const { identityToRecipient } = await import('age-encryption')
  const mine = await Promise.all(keys.map((k) => identityToRecipient(k).catch(() => undefined)))
  if (mine.some((r) => r !== undefined && recipients.includes(r))) return
  // A key that is not a key at all (cut short, mistyped) is not a wrong key: say which it is.
  const malformed = mine.flatMap((r, i) => (r === undefined ? [i + 1] : []))
  if (malformed.length === keys.length) {
    throw new DbopsError(
      'AGE_IDENTITY_INVALID',
      `the age identity from ${source} is malformed: ${keys.length === 1 ? 'its AGE-SECRET-KEY-1... line is' : `its AGE-SECRET-KEY-1... lines ${malformed.join(', ')} are`} not a valid age X25519 identity (cut short or mistyped?)`,
      {
        hint: 'Use the whole key line as age-keygen wrote it (74 characters, AGE-SECRET-KEY-1 then uppercase Bech32); `age-keygen -y key.txt` checks a key file.',
      },
    )
  }
  throw new DbopsError(
    'AGE_IDENTITY_MISMATCH',
    `the age identity from ${source} does not match any recipient of this backup (${recipients.join(', ')})`,
    {
      hint: 'Use the private key whose public key (age-keygen -y key.txt) is among the recipients in the config at backup time.',
    },
  )
}

/**
 * Decrypts with the age CLI when the identity is a file (its path goes on argv, the key
 * never does), else with the age-encryption library (the key stays in memory).
 */
export async function decryptor(
  keys: string[],
  engine: AgeEngine,
  signal?: AbortSignal,
  identityFile?: string,
): Promise<Duplex> {
  const corrupt = (detail: string) =>
    new DbopsError(
      'BACKUP_CORRUPT',
      `the backup could not be decrypted (${detail}); the stored object is corrupt or truncated`,
      {
        hint: 'Verify the other copies (dbops backups verify --from <destination>) and restore from an intact one.',
      },
    )
  if (identityFile && (await useCli(engine))) {
    return toolFilter('age', ['-d', '-i', identityFile], {
      signal,
      explain: (stderr) => {
        if (stderr.includes('no identity matched'))
          return new DbopsError(
            'AGE_IDENTITY_MISMATCH',
            'the age identity does not match this backup',
            { hint: 'Use the private key of one of the recipients.' },
          )
        return corrupt(`age: ${stderr.split('\n')[0]?.replace(/^age: error: /, '')}`)
      },
    })
  }
  const { Decrypter } = await import('age-encryption')
  const decrypter = new Decrypter()
  for (const k of keys) decrypter.addIdentity(k)
  return webTransform(
    async (input) => {
      try {
        return await decrypter.decrypt(input)
      } catch (error) {
        throw corrupt((error as Error).message)
      }
    },
    (error) => (error instanceof DbopsError ? error : corrupt((error as Error).message)),
  )
}

/** Adapts an async web-stream transform (the age library) to a Node Duplex with backpressure. */
function webTransform(
  start: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>,
  mapError: (e: unknown) => unknown = (e) => e,
): Duplex {
  const input = new PassThrough()
  const output = new PassThrough()
  start(Readable.toWeb(input) as ReadableStream<Uint8Array>)
    .then((web) =>
      pipeline(
        Readable.fromWeb(web as import('node:stream/web').ReadableStream<Uint8Array>),
        output,
      ),
    )
    .catch((error) => output.destroy(mapError(error) as Error))
  return DuplexClass.from({ writable: input, readable: output })
}
