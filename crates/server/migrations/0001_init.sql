-- One schema for SQLite and PostgreSQL: TEXT ids, BIGINT unix-millisecond times, JSON kept as TEXT.
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    revision BIGINT NOT NULL,
    doc TEXT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX workflows_by_workspace ON workflows (workspace_id, deleted);

-- Every accepted write, including the first: the history a restore picks from.
CREATE TABLE revisions (
    workflow_id TEXT NOT NULL REFERENCES workflows(id),
    revision BIGINT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, revision)
);

CREATE TABLE shares (
    slug TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows(id),
    workspace_id TEXT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX shares_by_workflow ON shares (workflow_id);

CREATE TABLE hooks (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id),
    kind TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A delivery key (X-Shopify-Webhook-Id or Idempotency-Key) seen once per hook.
CREATE TABLE hook_deliveries (
    hook_id TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    run_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (hook_id, delivery_key)
);

-- Runs are also the job queue: status queued -> running -> done | failed.
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    lease_until BIGINT,
    worker TEXT,
    input TEXT NOT NULL,
    report TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX runs_queue ON runs (status, run_after);
CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at);

-- Requests per token per minute, shared by every server process.
CREATE TABLE rate_windows (
    workspace_id TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, window_start)
);
