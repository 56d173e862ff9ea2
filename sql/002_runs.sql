-- 002: signals, runs, display messages, idempotency keys and inbound webhooks.

-- Inbound webhook of an agent: only the SHA-256 of the token is stored; the optional signing secret is
-- AES-256-GCM encrypted under the master key (hook_secret_key_version says which).
ALTER TABLE agents
  ADD COLUMN IF NOT EXISTS hook_token_hash BINARY(32) NULL,
  ADD COLUMN IF NOT EXISTS hook_hint VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN IF NOT EXISTS hook_secret_enc VARBINARY(512) NULL,
  ADD COLUMN IF NOT EXISTS hook_secret_key_version INT UNSIGNED NULL,
  ADD UNIQUE KEY IF NOT EXISTS agents_hook (hook_token_hash);

CREATE TABLE IF NOT EXISTS signals (
  id           VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  agent_id     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  type         VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payload      LONGTEXT NOT NULL CHECK (JSON_VALID(payload)),
  source       ENUM('api','webhook','mcp') NOT NULL,
  created_at   DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  KEY signals_agent (account_id, agent_id, id),
  CONSTRAINT signals_agent_fk FOREIGN KEY (agent_id) REFERENCES agents (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A run is written here (queued) before its id is pushed to Redis; Redis is never the only copy.
-- scheduled_for is set for cron runs only: the unique key makes N schedulers create each tick once.
CREATE TABLE IF NOT EXISTS runs (
  id             VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  agent_id       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status         ENUM('queued','running','waiting_approval','succeeded','failed','rejected','expired','cancelled') NOT NULL,
  trigger_type   ENUM('signal','schedule','webhook','mcp') NOT NULL,
  signal_id      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  signal_type    VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NULL,
  scheduled_for  DATETIME(3) NULL,
  input          LONGTEXT NULL CHECK (input IS NULL OR JSON_VALID(input)),
  output         LONGTEXT NULL CHECK (output IS NULL OR JSON_VALID(output)),
  error_message  VARCHAR(1000) NULL,
  attempt        INT UNSIGNED NOT NULL DEFAULT 0,
  worker         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  queued_at      DATETIME(3) NOT NULL,
  started_at     DATETIME(3) NULL,
  heartbeat_at   DATETIME(3) NULL,
  finished_at    DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY runs_schedule (agent_id, scheduled_for),
  KEY runs_agent (account_id, agent_id, id),
  KEY runs_agent_status (agent_id, status),
  KEY runs_status (status, queued_at),
  CONSTRAINT runs_agent_fk FOREIGN KEY (agent_id) REFERENCES agents (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS run_messages (
  id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  agent_id    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  run_id      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  role        ENUM('agent','system') NOT NULL,
  content     TEXT NOT NULL,
  data        LONGTEXT NULL CHECK (data IS NULL OR JSON_VALID(data)),
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  KEY run_messages_agent (account_id, agent_id, id),
  KEY run_messages_run (account_id, run_id, id),
  CONSTRAINT run_messages_run_fk FOREIGN KEY (run_id) REFERENCES runs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Idempotency-Key per API key: status NULL while the first request is in flight.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  api_key_id    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  idem_key      VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  request_hash  BINARY(32) NOT NULL,
  status        SMALLINT UNSIGNED NULL,
  location      VARCHAR(300) NULL,
  response      LONGTEXT NULL,
  created_at    DATETIME(3) NOT NULL,
  PRIMARY KEY (api_key_id, idem_key),
  KEY idempotency_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
