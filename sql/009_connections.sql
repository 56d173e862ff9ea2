-- 009: calendar connections. provider 'caldav' today (url = the calendar collection, credential_id = a
-- basic_auth or bearer_token credential of the same account); OAuth providers later keep the same row with
-- their own url/credential rules (credential_id and url are nullable for them; their tokens get their own
-- storage then). status and last_error record the last use (a digest run or an MCP tool call).
CREATE TABLE IF NOT EXISTS connections (
  id              VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  provider        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  display_name    VARCHAR(200) NOT NULL,
  account_label   VARCHAR(320) NULL,                -- the login or address the connection uses, shown to users
  url             VARCHAR(2048) NULL,
  credential_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  status          ENUM('active','error') CHARACTER SET ascii NOT NULL DEFAULT 'active',
  last_error      VARCHAR(600) NULL,
  last_synced_at  DATETIME(3) NULL,
  created_at      DATETIME(3) NOT NULL,
  updated_at      DATETIME(3) NOT NULL,
  deleted_at      DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY connections_account (account_id, deleted_at, id),
  CONSTRAINT connections_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id),
  CONSTRAINT connections_credential_fk FOREIGN KEY (credential_id) REFERENCES credentials (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
