-- report_usage_daily_account: flushed API requests per account and UTC day (from usage_daily).
-- Columns: day, account_id, account_name, requests (that day, all keys), api_keys (keys that made them).
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_usage_daily_account AS
SELECT u.day, u.account_id, a.name AS account_name,
       CAST(SUM(u.requests) AS UNSIGNED) AS requests, COUNT(*) AS api_keys
FROM usage_daily u
JOIN accounts a ON a.id = u.account_id
GROUP BY u.day, u.account_id, a.name;
