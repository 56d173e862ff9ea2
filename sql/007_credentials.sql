-- 007: credentials (secrets agents use: bearer tokens, basic auth, API keys, SMTP, generic fields).
-- The secret fields are one JSON object sealed with secretbox (AES-256-GCM, AAD = the credential id) under
-- the master key whose version secret_key_version records; they are never returned by the API.
CREATE TABLE IF NOT EXISTS credentials (
  id                  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name                VARCHAR(200) NOT NULL,
  type                ENUM('bearer_token','basic_auth','api_key','smtp','generic') CHARACTER SET ascii NOT NULL,
  secret_enc          VARBINARY(16384) NOT NULL,
  secret_key_version  INT UNSIGNED NOT NULL,
  hint                VARCHAR(8) NULL,                  -- last 4 characters of a token or key of 16+ characters
  created_at          DATETIME(3) NOT NULL,
  last_used_at        DATETIME(3) NULL,
  revoked_at          DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY credentials_account (account_id, id),
  CONSTRAINT credentials_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Sealed idempotent responses record their master key version too, so rotate-master-key can re-seal them
-- (NULL: sealed before this migration, under the key version configured then).
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS response_key_version INT UNSIGNED NULL;

-- A webhook endpoint's previous secret keeps the key version it was sealed under (rotate-secret moves it
-- from secret_key_version), so a master key rotation between the two re-seals both correctly.
ALTER TABLE webhook_endpoints ADD COLUMN IF NOT EXISTS previous_secret_key_version INT UNSIGNED NULL;
UPDATE webhook_endpoints SET previous_secret_key_version = secret_key_version
  WHERE previous_secret_enc IS NOT NULL AND previous_secret_key_version IS NULL;
