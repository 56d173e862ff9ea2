-- 008: external MCP servers an account's agents may call (mcp_tool), and what discovery found there.
-- The scheduler discovers servers whose status is 'unchecked' (claimed with claimed_until, so several
-- schedulers never discover one twice at once); generation grows with every change that asks for a new
-- discovery, and a discovery only writes its outcome when the generation it read is still the current one.
CREATE TABLE IF NOT EXISTS mcp_servers (
  id               VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name             VARCHAR(200) NOT NULL,
  url              VARCHAR(2048) NOT NULL,
  transport        ENUM('streamable_http') CHARACTER SET ascii NOT NULL DEFAULT 'streamable_http',
  credential_id    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,   -- a bearer_token credential
  enabled          TINYINT(1) NOT NULL DEFAULT 1,
  status           ENUM('unchecked','ok','error') CHARACTER SET ascii NOT NULL DEFAULT 'unchecked',
  last_error       VARCHAR(500) NULL,
  tools            MEDIUMTEXT NULL CHECK (tools IS NULL OR JSON_VALID(tools)),  -- [{name, description, input_schema}]
  last_checked_at  DATETIME(3) NULL,
  generation       INT UNSIGNED NOT NULL DEFAULT 0,
  claimed_until    DATETIME(3) NULL,
  created_at       DATETIME(3) NOT NULL,
  updated_at       DATETIME(3) NOT NULL,
  deleted_at       DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY mcp_servers_account (account_id, deleted_at, id),
  KEY mcp_servers_due (status, enabled, deleted_at, claimed_until),
  CONSTRAINT mcp_servers_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
