import { packageBuild } from '../../tsdown.base.ts'

// The entries are the package.json exports.
export default packageBuild()
