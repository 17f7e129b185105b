import { packageBuild } from '../../tsdown.base.ts'

export default packageBuild({
  index: 'src/index.ts',
  plugin: 'src/plugin-kit.ts',
  testing: 'src/testing/index.ts',
  bin: 'src/bin.ts',
})
