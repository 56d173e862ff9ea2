-- report_agent_health: each agent that is not deleted, with its runs that finished in the last 30 days.
-- Columns: account_id, agent_id, agent_name, agent_type, status (the agent's status now), runs_30d (runs
-- finished in the window, whatever their outcome), succeeded, failed, success_rate (succeeded / (succeeded +
-- failed), 0..1 with 4 decimals, NULL without either: cancelled, rejected and expired runs are not the
-- agent's doing), p95_duration_ms (95th percentile, continuous, of started->finished of the succeeded and
-- failed runs; NULL without any), last_finished_at.
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_agent_health AS
SELECT a.account_id, a.id AS agent_id, a.name AS agent_name, a.type AS agent_type, a.status,
       COALESCE(c.runs, 0) AS runs_30d, COALESCE(c.succeeded, 0) AS succeeded, COALESCE(c.failed, 0) AS failed,
       CAST(c.succeeded / NULLIF(c.succeeded + c.failed, 0) AS DECIMAL(5,4)) AS success_rate,
       CAST(ROUND(d.p95_us / 1000) AS SIGNED) AS p95_duration_ms,
       c.last_finished_at
FROM agents a
LEFT JOIN (
  SELECT agent_id, COUNT(*) AS runs, SUM(status = 'succeeded') AS succeeded, SUM(status = 'failed') AS failed,
         MAX(finished_at) AS last_finished_at
  FROM runs
  WHERE finished_at >= UTC_TIMESTAMP(3) - INTERVAL 30 DAY
  GROUP BY agent_id
) c ON c.agent_id = a.id
LEFT JOIN (
  SELECT DISTINCT agent_id,
         PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY TIMESTAMPDIFF(MICROSECOND, started_at, finished_at))
           OVER (PARTITION BY agent_id) AS p95_us
  FROM runs
  WHERE finished_at >= UTC_TIMESTAMP(3) - INTERVAL 30 DAY AND status IN ('succeeded', 'failed')
    AND started_at IS NOT NULL
) d ON d.agent_id = a.id
WHERE a.deleted_at IS NULL;
