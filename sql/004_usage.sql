-- 004: API request counts per account, key and UTC day, flushed from Redis by the scheduler.

-- Requests per (account, key, UTC day). The scheduler adds to a row, never sets it: see usage_flushes.
CREATE TABLE IF NOT EXISTS usage_daily (
  account_id  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  api_key_id  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day         DATE NOT NULL,
  requests    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day, api_key_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per Redis flush key applied to usage_daily, written in the same transaction as the additions:
-- replaying a flush key whose id is here (after a crash between COMMIT and DEL) adds nothing.
CREATE TABLE IF NOT EXISTS usage_flushes (
  flush_id    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  flushed_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (flush_id),
  KEY usage_flushes_at (flushed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- GET /usage counts runs and signals of an account by day.
ALTER TABLE runs ADD KEY IF NOT EXISTS runs_account_queued (account_id, queued_at);
ALTER TABLE signals ADD KEY IF NOT EXISTS signals_account_created (account_id, created_at);
