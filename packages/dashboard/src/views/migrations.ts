import { meta, type ViewEnv } from './view-env.ts'

/** `/api/migrations`: applied, pending, drifted (from `dbops migrate status`). */
export function migrations(env: ViewEnv) {
  return { ...meta(env), migrations: env.state.migrations }
}
