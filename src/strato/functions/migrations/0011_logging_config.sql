-- LoggingConfig, per version: Text or JSON, the levels JSON records are filtered at (NULL with
-- Text), and the log group its log goes to (NULL: its own /aws/lambda/NAME).
ALTER TABLE versions ADD COLUMN log_format TEXT NOT NULL DEFAULT 'Text';
ALTER TABLE versions ADD COLUMN application_log_level TEXT;
ALTER TABLE versions ADD COLUMN system_log_level TEXT;
ALTER TABLE versions ADD COLUMN log_group TEXT;
