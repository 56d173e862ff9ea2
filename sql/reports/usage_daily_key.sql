-- report_usage_daily_key: flushed API requests per API key and UTC day (from usage_daily).
-- Columns: day, account_id, api_key_id, key_name, key_prefix, requests. key_name and key_prefix are NULL
-- only if the key row is gone (keys are revoked, never deleted).
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_usage_daily_key AS
SELECT u.day, u.account_id, u.api_key_id, k.name AS key_name, k.prefix AS key_prefix, u.requests
FROM usage_daily u
LEFT JOIN api_keys k ON k.id = u.api_key_id;
