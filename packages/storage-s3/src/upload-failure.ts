import { DbopsError } from 'dbops/plugin'
import { type S3Call, s3Error } from './errors.ts'

/** Why an upload stopped, so the caller can word it: the S3 call, the source stream, or the caller's signal. */
export class UploadFailure extends Error {
  readonly origin: 's3' | 'source' | 'signal'
  readonly failure: unknown
  readonly uploadId: string | undefined
  /** Set when the multipart upload could not be aborted: its parts stay stored. */
  readonly abortError: unknown

  constructor(
    origin: 's3' | 'source' | 'signal',
    failure: unknown,
    uploadId: string | undefined,
    abortError: unknown,
  ) {
    super('upload failed')
    this.origin = origin
    this.failure = failure
    this.uploadId = uploadId
    this.abortError = abortError
  }
}

/** Words an upload failure: the S3 error, or the source's own error, plus any parts left stored. */
export function uploadError(error: unknown, call: S3Call): Error {
  if (!(error instanceof UploadFailure)) return s3Error(error, call)
  const { origin, failure, uploadId, abortError } = error
  const aborted =
    failure instanceof Error
      ? failure
      : Object.assign(new Error('the upload was aborted'), { name: 'AbortError' })
  if (origin === 'signal' && !abortError) return aborted
  if (!abortError) return origin === 'source' ? (failure as Error) : s3Error(failure, call)
  const left = s3Error(abortError, { ...call, action: 'abort the multipart upload of' })
  const note = `; the multipart upload ${uploadId} could not be aborted (${left.message.replace(/^.*failed: /, '')}), so its parts stay stored until removed`
  const hint = `Remove them with \`aws s3api abort-multipart-upload --bucket ${call.bucket} --key ${call.key} --upload-id ${uploadId}\`, and add a lifecycle rule AbortIncompleteMultipartUpload to the bucket as a safety net.`
  if (origin === 'signal') {
    // Still an abort (the caller stopped it: exit 130, not a storage failure), but one that
    // says what it leaves behind; the caller's reason is the cause.
    const stopped = new DbopsError(
      'STORAGE_S3_UPLOAD_LEFT_OPEN',
      `the upload of s3://${call.bucket}/${call.key} was stopped (${aborted.message})${note}`,
      { hint, cause: aborted },
    )
    return Object.assign(stopped, { name: 'AbortError' })
  }
  if (origin === 'source') {
    return new DbopsError(
      'STORAGE_S3_UPLOAD_LEFT_OPEN',
      `the upload of s3://${call.bucket}/${call.key} stopped because its source failed (${(failure as Error)?.message ?? String(failure)})${note}`,
      { hint, cause: failure },
    )
  }
  const base = s3Error(failure, call) as DbopsError
  return new DbopsError(base.code ?? 'STORAGE_S3_FAILED', `${base.message}${note}`, {
    hint: `${base.hint ?? ''} ${hint}`.trim(),
    cause: failure,
  })
}
