-- A user's session tokens issued at or before `revoked_before` (Unix milliseconds) are no
-- longer good: the back office's POST /users/{id}/revoke. Every instance reads this table.
CREATE TABLE session_revocations (
    user_id        TEXT PRIMARY KEY,
    revoked_before BIGINT NOT NULL
);
