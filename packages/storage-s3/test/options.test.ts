// s3({...}) options through their schema, in-process: a table of valid and invalid inputs.
// The output type has `bucket: string` (no cast downstream), and every problem is reported at once.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type S3Options, s3OptionsSchema } from '../src/options.ts'

// The bucket's fallback is read at parse time: these cases mean the environment says nothing.
delete process.env.BACKUP_S3_BUCKET

/** Each problem as `path: message`. */
function problems(input: unknown): string[] {
  const result = s3OptionsSchema.safeParse(input)
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

const valid: [string, unknown, Partial<S3Options>][] = [
  [
    'a bucket alone gets the defaults',
    { bucket: 'acme-backups' },
    { prefix: '', partSizeMb: 8, queueSize: 4, forcePathStyle: false },
  ],
  [
    'a prefix gets its trailing slash, not a leading one',
    { bucket: 'acme', prefix: '/db' },
    { prefix: 'db/' },
  ],
  [
    'KMS with its key',
    { bucket: 'acme', serverSideEncryption: 'aws:kms', kmsKeyId: 'alias/backups' },
    { kmsKeyId: 'alias/backups' },
  ],
  [
    'explicit credentials, both halves',
    { bucket: 'acme', accessKeyId: 'AKIA', secretAccessKey: 's' },
    { accessKeyId: 'AKIA' },
  ],
]

for (const [name, input, expected] of valid)
  test(`valid: ${name}`, () => {
    const options: S3Options = s3OptionsSchema.parse(input)
    const bucket: string = options.bucket // typed as a string: no cast needed
    assert.ok(bucket.length > 0)
    for (const [key, value] of Object.entries(expected))
      assert.equal(options[key as keyof S3Options], value, key)
  })

const invalid: [string, unknown, RegExp[]][] = [
  [
    'no bucket anywhere',
    {},
    [/^bucket: required: set bucket, or the environment variable BACKUP_S3_BUCKET$/],
  ],
  [
    'an s3:// URL as the bucket',
    { bucket: 's3://acme' },
    [/^bucket: 's3:\/\/acme' is not a bucket name/],
  ],
  [
    'every cross-field problem at once, the bucket one too',
    { accessKeyId: 'AKIA', sessionToken: 't', kmsKeyId: 'k' },
    [
      /^bucket: required/,
      /^secretAccessKey: accessKeyId and secretAccessKey go together/,
      /^kmsKeyId: kmsKeyId needs serverSideEncryption: 'aws:kms'$/,
    ],
  ],
  [
    'a session token without keys',
    { bucket: 'acme', sessionToken: 't' },
    [/^sessionToken: a sessionToken needs accessKeyId and secretAccessKey$/],
  ],
  [
    'parts under 5 MB',
    { bucket: 'acme', partSizeMb: 2 },
    [/^partSizeMb: S3 parts are at least 5 MB$/],
  ],
]

for (const [name, input, expected] of invalid)
  test(`invalid: ${name}`, () => {
    const said = problems(input)
    assert.is(said.length, expected.length, said.join('\n'))
    for (const pattern of expected)
      assert.ok(
        said.some((p) => pattern.test(p)),
        `${pattern} not in:\n${said.join('\n')}`,
      )
  })

test('BACKUP_S3_BUCKET fills a missing bucket', () => {
  process.env.BACKUP_S3_BUCKET = ' from-env '
  try {
    assert.is(s3OptionsSchema.parse({}).bucket, 'from-env')
  } finally {
    delete process.env.BACKUP_S3_BUCKET
  }
})

test.run()
