-- Which poller ran each poll (`--poller NAME`, default the host name), for `dnswatch pollers`. NULL for
-- runs recorded before this migration.
ALTER TABLE polls ADD COLUMN poller TEXT;
