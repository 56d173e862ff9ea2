-- 010: approvals (a person in the loop): agents that need one, and the approvals their runs and the MCP
-- endpoint's actions wait on. A decision is a conditional UPDATE (status = 'pending' AND expires_at > now):
-- exactly one of two concurrent decisions wins, and an expired approval is refused at the moment of the
-- decision by the database's clock. The scheduler marks overdue pending approvals expired.
ALTER TABLE agents
  ADD COLUMN IF NOT EXISTS require_approval TINYINT(1) NOT NULL DEFAULT 0,
  -- NULL: the server's approval_default_timeout_seconds.
  ADD COLUMN IF NOT EXISTS approval_timeout_seconds INT UNSIGNED NULL;

-- source 'agent': a run (run_id, agent_id) waits in waiting_approval; approving queues it again, and its
-- runner_gate then lets the approved action through. source 'mcp': no agent or run; once approved the
-- scheduler performs the action itself (action_status pending -> running -> succeeded | failed, claimed by
-- a conditional UPDATE so it happens once).
CREATE TABLE IF NOT EXISTS approvals (
  id             VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  agent_id       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  run_id         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  source         ENUM('agent','mcp') NOT NULL,
  action         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  summary        VARCHAR(500) NOT NULL,
  arguments      LONGTEXT NOT NULL CHECK (JSON_VALID(arguments)),
  status         ENUM('pending','approved','rejected','expired','cancelled') NOT NULL DEFAULT 'pending',
  requested_by   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,   -- the API key (mcp), NULL for runs
  expires_at     DATETIME(3) NOT NULL,
  created_at     DATETIME(3) NOT NULL,
  decided_at     DATETIME(3) NULL,
  decided_by     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,   -- the API key that decided
  comment        VARCHAR(1000) NULL,                                       -- approve's comment or reject's reason
  action_status  ENUM('pending','running','succeeded','failed') NULL,      -- mcp approvals only
  action_error   VARCHAR(600) NULL,
  action_at      DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY approvals_account_status (account_id, status, id),
  KEY approvals_account (account_id, id),
  KEY approvals_run (run_id, status),
  KEY approvals_agent (agent_id, status, id),
  KEY approvals_due (status, expires_at),
  KEY approvals_action (action_status, decided_at),
  CONSTRAINT approvals_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
