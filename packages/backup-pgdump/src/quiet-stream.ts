/**
 * A stream that may fail before anything consumes it (an abort while the pipeline is still
 * being assembled): the error is kept for the pipeline, never thrown as an unhandled event.
 */
export function quiet<S extends NodeJS.EventEmitter>(stream: S): S {
  stream.on('error', () => {})
  return stream
}
