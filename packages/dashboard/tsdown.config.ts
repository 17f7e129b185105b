import { packageBuild } from '../../tsdown.base.ts'

// The entries are the package.json exports; the page's files ship inside dist/web.
export default packageBuild({}, { copy: [{ from: 'web/*', to: 'dist/web' }] })
