/*
  Warnings:

  - A unique constraint covering the columns `[emailVerificationToken]` on the table `users` will be added. If there are existing duplicate values, this will fail.

*/
-- AlterTable
ALTER TABLE "users" ADD COLUMN     "emailVerificationExpiry" TIMESTAMP(3),
ADD COLUMN     "emailVerificationToken" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "users_emailVerificationToken_key" ON "users"("emailVerificationToken");

-- CreateIndex
CREATE INDEX "users_emailVerificationToken_idx" ON "users"("emailVerificationToken");

-- CreateIndex
CREATE INDEX "users_verified_idx" ON "users"("verified");

-- CreateIndex
CREATE INDEX "users_role_idx" ON "users"("role");

-- CreateIndex
CREATE INDEX "users_plan_idx" ON "users"("plan");

-- CreateIndex
CREATE INDEX "users_email_verified_idx" ON "users"("email", "verified");

-- CreateIndex
CREATE INDEX "users_unverified_emailVerificationExpiry_idx" ON "users"("emailVerificationExpiry") WHERE ("verified" = false);

-- CreateIndex
CREATE INDEX "content_pieces_organizationId_status_idx" ON "content_pieces"("organizationId", "status");

-- CreateIndex
CREATE INDEX "content_pieces_platform_publishedAt_idx" ON "content_pieces"("platform", "publishedAt");

-- CreateIndex
CREATE INDEX "scheduled_posts_organizationId_scheduledAt_idx" ON "scheduled_posts"("organizationId", "scheduledAt");

-- CreateIndex
CREATE INDEX "scheduled_posts_unpublished_scheduledAt_idx" ON "scheduled_posts"("scheduledAt") WHERE ("published" = false);

-- CreateIndex
CREATE INDEX "analytics_organizationId_collectedAt_idx" ON "analytics"("organizationId", "collectedAt");

-- CreateIndex
CREATE INDEX "analytics_platform_metricType_idx" ON "analytics"("platform", "metricType");
