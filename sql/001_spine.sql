-- 001: accounts, API keys, agents and the audit trail.
-- Ids are prefixed, time-sortable ASCII strings (acct_, key_, agt_, aud_); binary collation makes
-- ORDER BY id the creation order. Times are DATETIME(3) in UTC.

CREATE TABLE IF NOT EXISTS accounts (
  id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name        VARCHAR(200) NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- scopes is a SET whose members are in the bit order of enum scope (src/lib/scope.h).
CREATE TABLE IF NOT EXISTS api_keys (
  id           VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name         VARCHAR(200) NOT NULL,
  prefix       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  key_hash     BINARY(32) NOT NULL,
  scopes       SET('agents:read','agents:write','runs:read','connections:read','usage:read',
                   'signals:write','notifications:read','notifications:write','webhooks:read',
                   'webhooks:write','mcp:read','mcp:write','credentials:read','credentials:write',
                   'audit_logs:read','mcp:tools') NOT NULL,
  rate_limit   INT UNSIGNED NOT NULL CHECK (rate_limit >= 1),
  created_at   DATETIME(3) NOT NULL,
  expires_at   DATETIME(3) NULL,
  last_used_at DATETIME(3) NULL,
  revoked_at   DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY api_keys_hash (key_hash),
  KEY api_keys_account (account_id, id),
  CONSTRAINT api_keys_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- status is derived, never stored twice: paused wins, then a run in progress, then the last outcome.
CREATE TABLE IF NOT EXISTS agents (
  id            VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name          VARCHAR(200) NOT NULL,
  type          VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  paused        TINYINT(1) NOT NULL DEFAULT 0,
  active_runs   INT UNSIGNED NOT NULL DEFAULT 0,
  last_outcome  ENUM('none','succeeded','failed') NOT NULL DEFAULT 'none',
  status        VARCHAR(10) CHARACTER SET ascii AS (CASE
                  WHEN paused THEN 'paused'
                  WHEN active_runs > 0 THEN 'running'
                  WHEN last_outcome = 'failed' THEN 'error'
                  ELSE 'idle' END) VIRTUAL,
  schedule      VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NULL,
  timezone      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'UTC',
  config        LONGTEXT NOT NULL CHECK (JSON_VALID(config)),
  created_at    DATETIME(3) NOT NULL,
  updated_at    DATETIME(3) NOT NULL,
  last_run_at   DATETIME(3) NULL,
  next_run_at   DATETIME(3) NULL,
  deleted_at    DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY agents_account_list (account_id, deleted_at, id),
  KEY agents_due (next_run_at),
  CONSTRAINT agents_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- actor: the API key id, or 'cli' for agentplatform-admin. changes: a JSON object of what changed.
CREATE TABLE IF NOT EXISTS audit_logs (
  id           VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  action       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  actor        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  target_type  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  target_id    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ip           VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NULL,
  request_id   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  changes      LONGTEXT NULL CHECK (changes IS NULL OR JSON_VALID(changes)),
  created_at   DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  KEY audit_account_time (account_id, id),
  KEY audit_account_target (account_id, target_type, target_id, id),
  KEY audit_account_action (account_id, action, id),
  CONSTRAINT audit_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
