-- 003: indexes so that every filter of GET /api/v1/audit-logs is a backward range scan of one
-- (account_id, column, id) index: no filesort, and a page stops after LIMIT matching rows whatever the
-- table's size. since, until and the cursor are bounds on the time-sortable id, so they need no index of
-- their own. (account_id, target_type, target_id, id) from 001 cannot order a target_type-only filter by id
-- (it filesorted every entry of that type), and target_id alone is served by (account_id, target_id, id):
-- it is replaced.
ALTER TABLE audit_logs
  ADD KEY IF NOT EXISTS audit_account_target_id (account_id, target_id, id),
  ADD KEY IF NOT EXISTS audit_account_type (account_id, target_type, id),
  ADD KEY IF NOT EXISTS audit_account_actor (account_id, actor, id),
  DROP KEY IF EXISTS audit_account_target;
