-- report_keys_unused: usable API keys (not revoked, not expired) never used, or not used in the last 30 days.
-- Columns: account_id, api_key_id, key_name, key_prefix, created_at, expires_at, last_used_at, state
-- ('never_used' or 'idle_30d'), idle_days (whole days since the last use, or since creation when never used).
-- last_used_at is written at most once a minute per key, so a key used in the last minute may still show as
-- never used.
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_keys_unused AS
SELECT k.account_id, k.id AS api_key_id, k.name AS key_name, k.prefix AS key_prefix, k.created_at, k.expires_at,
       k.last_used_at, IF(k.last_used_at IS NULL, 'never_used', 'idle_30d') AS state,
       DATEDIFF(UTC_TIMESTAMP(3), COALESCE(k.last_used_at, k.created_at)) AS idle_days
FROM api_keys k
WHERE k.revoked_at IS NULL
  AND (k.expires_at IS NULL OR k.expires_at > UTC_TIMESTAMP(3))
  AND (k.last_used_at IS NULL OR k.last_used_at < UTC_TIMESTAMP(3) - INTERVAL 30 DAY);
