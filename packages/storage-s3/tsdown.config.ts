import { packageBuild } from '../../tsdown.base.ts'

export default packageBuild({ index: 'src/index.ts' })
