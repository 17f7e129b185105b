// Prisma 7 reads the connection from here, not from schema.prisma. A plain object (what
// `defineConfig` from 'prisma/config' returns) so that this example does not need Prisma
// installed: dbops applies prisma/migrations itself.
export default {
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL },
}
