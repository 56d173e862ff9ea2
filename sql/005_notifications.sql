-- 005: notifications of an account (failed runs, agents gone to error, weather alerts, expiring API keys).
-- Written by the scheduler in the same transaction as the event that causes them. dedupe_key names the event
-- ("run.failed:<run id>", "api_key.expiring:<key id>", ...): unique per account, so a retried run, a re-run
-- sweep or several schedulers never create the same notification twice.
CREATE TABLE IF NOT EXISTS notifications (
  id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  type        VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  title       VARCHAR(300) NOT NULL,
  body        VARCHAR(1000) NOT NULL,
  agent_id    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  run_id      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  dedupe_key  VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  read_at     DATETIME(3) NULL,
  unread      TINYINT(1) AS (read_at IS NULL) PERSISTENT,
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY notifications_dedupe (account_id, dedupe_key),
  -- Newest first per account, with each filter combination an index range walked backwards on id.
  KEY notifications_account (account_id, id),
  KEY notifications_unread (account_id, unread, id),
  KEY notifications_type (account_id, type, id),
  KEY notifications_type_unread (account_id, type, unread, id),
  CONSTRAINT notifications_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The scheduler's periodic check for keys that expire soon.
ALTER TABLE api_keys ADD KEY IF NOT EXISTS api_keys_expires (expires_at);
