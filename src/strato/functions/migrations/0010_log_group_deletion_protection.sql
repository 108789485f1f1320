-- CreateLogGroup's deletionProtectionEnabled and PutLogGroupDeletionProtection: a protected
-- group refuses DeleteLogGroup until its protection is lifted. Groups made before are unprotected.
ALTER TABLE log_groups ADD COLUMN deletion_protection INTEGER NOT NULL DEFAULT 0;
