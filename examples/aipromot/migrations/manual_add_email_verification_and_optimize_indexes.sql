-- dbops:no-transaction
-- aipromot: add e-mail verification and optimize indexes, on an existing database.
--
-- The same end state as prisma/migrations/20250602143000_add_email_verification_and_optimize_indexes,
-- but safe on a live database: indexes are built CONCURRENTLY (no write lock on the table),
-- and every statement is guarded, so the script can be run again after an interruption,
-- or twice, with the same result. CONCURRENTLY cannot run inside a transaction: run it
-- statement by statement (`dbops run migrate:manual`, or `psql -f`, which autocommits).

-- 1. The verification fields (nullable: existing users are unaffected).
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "emailVerificationExpiry" TIMESTAMP(3),
ADD COLUMN IF NOT EXISTS "emailVerificationToken" TEXT;

-- 2. An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index behind, and
--    IF NOT EXISTS would then keep it forever. Drop such leftovers of this script
--    (never one that is still being built) so that step 3 builds them again.
DO $$
DECLARE
  leftover record;
BEGIN
  FOR leftover IN
    SELECT c.relname
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
      AND NOT i.indisvalid
      AND c.relname IN (
        'users_emailVerificationToken_key', 'users_emailVerificationToken_idx', 'users_verified_idx',
        'users_role_idx', 'users_plan_idx', 'users_email_verified_idx',
        'users_unverified_emailVerificationExpiry_idx', 'content_pieces_organizationId_status_idx',
        'content_pieces_platform_publishedAt_idx', 'scheduled_posts_organizationId_scheduledAt_idx',
        'scheduled_posts_unpublished_scheduledAt_idx', 'analytics_organizationId_collectedAt_idx',
        'analytics_platform_metricType_idx')
      AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
  LOOP
    RAISE NOTICE 'dropping invalid index % left by an interrupted run', leftover.relname;
    EXECUTE format('DROP INDEX IF EXISTS %I', leftover.relname);
  END LOOP;
END
$$;

-- 3. Users: verification-token lookups (unique: one token, one user), and the admin
--    and billing filters.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "users_emailVerificationToken_key" ON "users"("emailVerificationToken");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_emailVerificationToken_idx" ON "users"("emailVerificationToken");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_verified_idx" ON "users"("verified");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_role_idx" ON "users"("role");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_plan_idx" ON "users"("plan");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_email_verified_idx" ON "users"("email", "verified");

-- 4. Content management: the dashboard lists by organization and status; the feed by
--    platform and publication date; the publisher polls the due posts.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "content_pieces_organizationId_status_idx" ON "content_pieces"("organizationId", "status");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "content_pieces_platform_publishedAt_idx" ON "content_pieces"("platform", "publishedAt");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "scheduled_posts_organizationId_scheduledAt_idx" ON "scheduled_posts"("organizationId", "scheduledAt");

-- 5. Analytics: time ranges per organization, and breakdowns by platform and metric.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "analytics_organizationId_collectedAt_idx" ON "analytics"("organizationId", "collectedAt");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "analytics_platform_metricType_idx" ON "analytics"("platform", "metricType");

-- 6. Partial indexes for the boolean filters: only the rows those queries read, so they
--    stay small however many verified users and published posts accumulate.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_unverified_emailVerificationExpiry_idx" ON "users"("emailVerificationExpiry") WHERE ("verified" = false);
CREATE INDEX CONCURRENTLY IF NOT EXISTS "scheduled_posts_unpublished_scheduledAt_idx" ON "scheduled_posts"("scheduledAt") WHERE ("published" = false);
