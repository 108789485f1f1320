-- Settings a function version keeps and answers though strato does not act on them (there is
-- no X-Ray, KMS, SQS or SNS here): its tracing mode, the KMS key its variables would be
-- encrypted with, and its dead-letter queue or topic.
ALTER TABLE versions ADD COLUMN tracing_mode TEXT NOT NULL DEFAULT 'PassThrough';
ALTER TABLE versions ADD COLUMN kms_key_arn TEXT;
ALTER TABLE versions ADD COLUMN dead_letter_target TEXT;
