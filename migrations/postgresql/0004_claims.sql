-- Leases by batch instead of by domain (replacing 0001's lease columns of `domains`): a claim is one row
-- of `claims`, the due domains a poller took in one batch, which lie between `low` and `high` (domain ids;
-- claims walk the domains in id order, so a batch is a range), under a token from `lease_tokens`, until
-- `until` (the server's clock). A domain inside a live claim's range is due to no one else. Claims are
-- made one at a time (a transaction-level advisory lock), each first deleting the claims that expired; a
-- batch commits only if its own claim row is still there, unexpired, and deletes it as its last statement.
-- So a claim and its release are one row each, not a row update per domain (40,000 updates of `domains`
-- a poll of 20,000 domains before). Stop the pollers before this migration: their leases are dropped.
CREATE TABLE claims (
    token  BIGINT      PRIMARY KEY,
    poller TEXT        NOT NULL,
    low    BIGINT      NOT NULL,
    high   BIGINT      NOT NULL,
    until  TIMESTAMPTZ NOT NULL
);
ALTER TABLE domains DROP COLUMN lease_poller, DROP COLUMN lease_token, DROP COLUMN lease_until;
