-- 006: outbound webhooks: endpoints, the event outbox, deliveries.
-- An event is written to webhook_events in the same transaction as what caused it; the scheduler
-- dispatches it into one delivery per subscribed endpoint and delivers (Standard Webhooks).

CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id                         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id                 VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  url                        VARCHAR(2048) NOT NULL,
  description                VARCHAR(500) NULL,
  events                     LONGTEXT NOT NULL CHECK (JSON_VALID(events)),   -- JSON array of event types or ["*"]
  enabled                    TINYINT(1) NOT NULL DEFAULT 1,
  disabled_reason            VARCHAR(300) NULL,
  secret_enc                 VARBINARY(512) NOT NULL,                       -- secretbox(whsec_...), AAD = endpoint id
  secret_key_version         INT UNSIGNED NOT NULL,
  previous_secret_enc        VARBINARY(512) NULL,                           -- still signs until previous_secret_until
  previous_secret_until      DATETIME(3) NULL,
  consecutive_failures       INT UNSIGNED NOT NULL DEFAULT 0,
  created_at                 DATETIME(3) NOT NULL,
  updated_at                 DATETIME(3) NOT NULL,
  deleted_at                 DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY webhook_endpoints_account (account_id, deleted_at, id),
  CONSTRAINT webhook_endpoints_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The outbox. payload is the exact body sent: {"type", "timestamp", "data"}.
CREATE TABLE IF NOT EXISTS webhook_events (
  id             VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  type           VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payload        LONGTEXT NOT NULL CHECK (JSON_VALID(payload)),
  created_at     DATETIME(3) NOT NULL,
  dispatched_at  DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY webhook_events_pending (dispatched_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id                VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  endpoint_id       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  event_id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status            ENUM('pending','succeeded','failed') NOT NULL,
  attempts          INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at   DATETIME(3) NULL,
  last_status_code  SMALLINT UNSIGNED NULL,
  last_error        VARCHAR(500) NULL,
  created_at        DATETIME(3) NOT NULL,
  updated_at        DATETIME(3) NOT NULL,
  delivered_at      DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY webhook_deliveries_once (endpoint_id, event_id),
  KEY webhook_deliveries_due (status, next_attempt_at),
  KEY webhook_deliveries_endpoint (account_id, endpoint_id, id),
  CONSTRAINT webhook_deliveries_endpoint_fk FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id),
  CONSTRAINT webhook_deliveries_event_fk FOREIGN KEY (event_id) REFERENCES webhook_events (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
