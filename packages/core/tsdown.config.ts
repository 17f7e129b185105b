import { packageBuild } from '../../tsdown.base.ts'

// The exports (dbops, dbops/plugin, dbops/testing) come from package.json; the bin is not one.
export default packageBuild({ bin: 'src/bin.ts' })
