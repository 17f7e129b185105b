import type { DashboardState } from '../collect/state.ts'
import type { BackupRow, RunRow } from '../collect/types.ts'

// Sorted once per read of the sources, not once per request.
const sorted = new WeakMap<DashboardState, { version: number; sets: BackupRow[]; runs: RunRow[] }>()

function derived(state: DashboardState) {
  let d = sorted.get(state)
  if (!d || d.version !== state.version) {
    d = {
      version: state.version,
      sets: [...state.backups.values()]
        .flatMap((b) => b.sets.map((s) => s.row))
        .sort((a, b) => b.startedAt.localeCompare(a.startedAt)),
      runs: [...state.runs.values()].sort((a, b) => b.queuedAt.localeCompare(a.queuedAt)),
    }
    sorted.set(state, d)
  }
  return d
}

/** Every backup set of every destination, newest first. */
export function allSets(state: DashboardState): BackupRow[] {
  return derived(state).sets
}

/** Every run read, newest first. */
export function sortedRuns(state: DashboardState): RunRow[] {
  return derived(state).runs
}

/** A run for a listing: its steps counted, not carried. */
export function withoutSteps(r: RunRow): Omit<RunRow, 'steps'> & { steps: number | null } {
  return { ...r, steps: r.steps?.length ?? null }
}
