-- report_webhook_failures: per webhook endpoint, deliveries finished in the last 30 days and their failure rate.
-- Columns: account_id, endpoint_id, url_host (the host only: a full URL may carry a receiver's token), enabled,
-- disabled_reason, deliveries_30d (succeeded + failed), succeeded, failed, failure_rate (failed / finished, NULL
-- without any), pending (deliveries still being retried), last_delivered_at.
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_webhook_failures AS
SELECT e.account_id, e.id AS endpoint_id,
       SUBSTRING_INDEX(SUBSTRING_INDEX(SUBSTRING_INDEX(e.url, '://', -1), '/', 1), '?', 1) AS url_host,
       e.enabled, e.disabled_reason,
       COUNT(IF(d.status IN ('succeeded', 'failed'), 1, NULL)) AS deliveries_30d,
       COUNT(IF(d.status = 'succeeded', 1, NULL)) AS succeeded,
       COUNT(IF(d.status = 'failed', 1, NULL)) AS failed,
       COUNT(IF(d.status = 'failed', 1, NULL)) / NULLIF(COUNT(IF(d.status IN ('succeeded', 'failed'), 1, NULL)), 0)
         AS failure_rate,
       COUNT(IF(d.status = 'pending', 1, NULL)) AS pending,
       MAX(d.delivered_at) AS last_delivered_at
FROM webhook_endpoints e
LEFT JOIN webhook_deliveries d
  ON d.endpoint_id = e.id AND d.created_at >= UTC_TIMESTAMP(3) - INTERVAL 30 DAY
WHERE e.deleted_at IS NULL
GROUP BY e.account_id, e.id, e.url, e.enabled, e.disabled_reason;
