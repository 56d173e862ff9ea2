-- report_approvals_waiting: pending approvals, the ones waiting longest first (who is holding up which agent).
-- Columns: account_id, approval_id, agent_id (NULL for approvals the MCP endpoint requested), agent_name,
-- source ('agent' or 'mcp'), action, summary, created_at, expires_at, waiting_minutes (whole minutes since the
-- approval was requested), expires_in_minutes (whole minutes left; 0 or less: overdue, about to be expired by
-- the scheduler). An approval still pending after its expires_at shows until the scheduler's next check.
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_approvals_waiting AS
SELECT p.account_id, p.id AS approval_id, p.agent_id, g.name AS agent_name, p.source, p.action, p.summary,
       p.created_at, p.expires_at,
       TIMESTAMPDIFF(MINUTE, p.created_at, UTC_TIMESTAMP(3)) AS waiting_minutes,
       TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(3), p.expires_at) AS expires_in_minutes
FROM approvals p
LEFT JOIN agents g ON g.id = p.agent_id
WHERE p.status = 'pending';
