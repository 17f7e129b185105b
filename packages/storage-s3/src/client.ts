import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { S3Options } from './options.ts'

/** No byte either way for this long: the connection is dead (the AWS CLI waits 60 s too). */
export const SOCKET_TIMEOUT_MS = 60_000

/**
 * The client settings of one destination. Credentials: explicit ones from the config, else
 * the SDK's standard chain (AWS_ACCESS_KEY_ID/…, AWS_PROFILE and ~/.aws, SSO, web identity,
 * ECS and EC2 instance roles). Region: the config, else AWS_REGION/AWS_DEFAULT_REGION, else
 * the profile's, else us-east-1 for a custom endpoint.
 */
export function clientConfig(options: S3Options): S3ClientConfig {
  const region =
    options.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    (options.endpoint ? 'us-east-1' : undefined)
  return {
    ...(region ? { region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle,
    ...(options.accessKeyId && options.secretAccessKey
      ? {
          credentials: {
            accessKeyId: options.accessKeyId,
            secretAccessKey: options.secretAccessKey,
            ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
          },
        }
      : {}),
    // A dead endpoint should fail in seconds, not hang a nightly backup; a stalled socket
    // (no bytes either way for a minute: a network that dropped) counts as failed and is
    // retried by the SDK. `requestTimeout` would bound a whole request (a big part on a
    // slow link) and, in this SDK, only logs a warning: the inactivity timeout is the one.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: SOCKET_TIMEOUT_MS },
    maxAttempts: 4,
  }
}

export function createClient(options: S3Options): S3Client {
  // dbops pins an SDK release that supports Node 20; its multi-line notice that later
  // releases will need Node 22 would otherwise open every run's output. Set the variable
  // to 'false' to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  return new S3Client(clientConfig(options))
}

/** The secret values of a config, so that no message ever repeats them. */
export function secretsOf(options: S3Options): string[] {
  return [options.accessKeyId, options.secretAccessKey, options.sessionToken].filter(
    (s): s is string => !!s,
  )
}
