import { DbopsError, isAbortError, scrub } from 'dbops/plugin'

/** What an S3 call was about, for the sentence. Never credentials. */
export interface S3Call {
  /** `upload`, `download`, `look up`, `list`, `delete` */
  action: string
  bucket: string
  /** Full object key or list prefix. */
  key?: string
  endpoint: string | undefined
  region: string | undefined
  /** The destination's name in the config (`offsite`). */
  storage: string
  secrets: string[]
}

interface SdkError {
  name?: string
  code?: string
  message?: string
  Code?: string
  Region?: string
  Endpoint?: string
  $metadata?: { httpStatusCode?: number }
  $response?: { headers?: Record<string, string | undefined> }
  cause?: unknown
  errors?: unknown[]
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])
const ACCESS_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidSecurity',
  'Forbidden',
])
const REGION_CODES = new Set([
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
  'Redirect',
  'TemporaryRedirect',
])

/**
 * Turns an SDK or network error into a sentence that says what failed and what to do. The
 * original error stays as `cause`; nothing printed repeats a credential.
 */
export function s3Error(error: unknown, call: S3Call): Error {
  if (error instanceof DbopsError || isAbortError(error)) return error as Error
  const e = (error ?? {}) as SdkError
  const code = errorCode(e)
  const status = e.$metadata?.httpStatusCode
  const where = `s3://${call.bucket}/${call.key ?? ''}`
  const at = call.endpoint
    ? ` at ${scrub(call.endpoint, call.secrets)}`
    : call.region
      ? ` in ${call.region}`
      : ''
  const setting = (key: string) => `storage.${call.storage}.${key}`
  const make = (stable: string, message: string, hint: string) =>
    new DbopsError(stable, scrub(message, call.secrets), {
      hint: scrub(hint, call.secrets),
      cause: error,
    })

  if (code === 'NoSuchBucket') {
    return make(
      'STORAGE_S3_NO_BUCKET',
      `${call.action} ${where} failed: the bucket '${call.bucket}' does not exist${at}`,
      `Create the bucket, or fix ${setting('bucket')} (or BACKUP_S3_BUCKET)${call.endpoint ? '' : ' and the region'}.`,
    )
  }
  const bucketRegion =
    e.$response?.headers?.['x-amz-bucket-region'] ??
    e.Region ??
    /expecting '([a-z0-9-]+)'/.exec(e.message ?? '')?.[1]
  if (
    REGION_CODES.has(code) ||
    status === 301 ||
    (status === 400 && bucketRegion !== undefined && bucketRegion !== call.region)
  ) {
    const actual = bucketRegion
      ? `the bucket '${call.bucket}' is in ${bucketRegion}`
      : `the bucket '${call.bucket}' is in another region or behind another endpoint`
    return make(
      'STORAGE_S3_WRONG_REGION',
      `${call.action} ${where} failed: ${actual}, not ${call.region ?? 'the configured region'}`,
      `Set ${setting('region')}${bucketRegion ? ` to '${bucketRegion}'` : ''} (or AWS_REGION).`,
    )
  }
  if (ACCESS_CODES.has(code) || status === 403) {
    const why =
      code === 'InvalidAccessKeyId'
        ? 'the access key id is not known to the server'
        : code === 'SignatureDoesNotMatch'
          ? 'the secret access key does not match the access key id'
          : code === 'ExpiredToken' || code === 'TokenRefreshRequired'
            ? 'the session token has expired'
            : 'access denied'
    return make(
      'STORAGE_S3_ACCESS_DENIED',
      `${call.action} ${where} failed: ${why} (${code || status})`,
      `Check the credentials (${setting('accessKeyId')}/secretAccessKey, or AWS_ACCESS_KEY_ID, AWS_PROFILE or the instance role) and that their policy allows s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject and s3:AbortMultipartUpload on ${call.bucket}${code === 'AccessDenied' ? ', and kms:GenerateDataKey/kms:Decrypt when the bucket uses SSE-KMS' : ''}.`,
    )
  }
  if (
    e.name === 'CredentialsProviderError' ||
    /Could not load credentials/i.test(e.message ?? '')
  ) {
    return make(
      'STORAGE_S3_NO_CREDENTIALS',
      `${call.action} ${where} failed: no AWS credentials were found`,
      `Set ${setting('accessKeyId')} and secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance/task role.`,
    )
  }
  if (/Region is missing/i.test(e.message ?? '')) {
    return make(
      'STORAGE_S3_NO_REGION',
      `${call.action} ${where} failed: no AWS region is configured`,
      `Set ${setting('region')} (or AWS_REGION).`,
    )
  }
  const network = networkCode(e)
  if (network) {
    const host = call.endpoint
      ? scrub(call.endpoint, call.secrets)
      : `the S3 endpoint of region ${call.region ?? '(unset)'}`
    const notFound = network === 'ENOTFOUND' || network === 'EAI_AGAIN'
    const hint = call.endpoint
      ? `Check ${setting('endpoint')} (scheme, host and port) and that the server is running and reachable from here.`
      : notFound
        ? `Check ${setting('region')}: '${call.region}' has no S3 endpoint (s3.${call.region}.amazonaws.com does not resolve), or this machine has no DNS/network.`
        : 'Check the network, proxy and firewall between this machine and S3.'
    return make(
      'STORAGE_S3_UNREACHABLE',
      `${call.action} ${where} failed: cannot reach ${host} (${network})`,
      hint,
    )
  }
  if (code === 'InvalidStorageClass') {
    return make(
      'STORAGE_S3_INVALID_OPTION',
      `${call.action} ${where} failed: the server does not accept the storage class`,
      `Change or remove ${setting('storageClass')}.`,
    )
  }
  if (code.startsWith('KMS.') || /kms/i.test(code)) {
    return make(
      'STORAGE_S3_KMS',
      `${call.action} ${where} failed: KMS refused the encryption key (${code})`,
      `Check ${setting('kmsKeyId')} and that the credentials may use that key (kms:GenerateDataKey, kms:Decrypt).`,
    )
  }
  if (/Exceeded 10000 parts/i.test(e.message ?? '')) {
    return make(
      'STORAGE_S3_TOO_MANY_PARTS',
      `${call.action} ${where} failed: the object needs more than 10,000 parts`,
      `Raise ${setting('partSizeMb')}: objects can be at most 10,000 × partSizeMb.`,
    )
  }
  const detail =
    [code, e.message].filter((s) => s && s !== 'UnknownError').join(': ') ||
    (status ? `HTTP ${status}` : 'unknown error')
  return make(
    'STORAGE_S3_FAILED',
    `${call.action} ${where}${at} failed: ${detail}`,
    'Run again; if it persists, check the S3 service status and the destination settings.',
  )
}

function errorCode(e: SdkError): string {
  const code = e.Code ?? e.name ?? ''
  return code === 'Error' || code === 'UnknownError' ? '' : code
}

/** The system error code of a network failure, looking through SDK wrappers and AggregateErrors. */
function networkCode(e: SdkError, depth = 0): string | undefined {
  if (depth > 4 || !e) return undefined
  if (e.code && NETWORK_CODES.has(e.code)) return e.code
  if (e.name === 'TimeoutError' || e.code === 'TimeoutError') return 'timed out'
  for (const inner of e.errors ?? []) {
    const found = networkCode(inner as SdkError, depth + 1)
    if (found) return found
  }
  return e.cause ? networkCode(e.cause as SdkError, depth + 1) : undefined
}
