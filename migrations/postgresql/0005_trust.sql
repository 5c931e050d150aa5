-- Alerts and verdicts an analyst can trust (issue 20); as SQLite's 0009.
-- Provenance: the resolver (HOST:PORT) whose answer started a span; NULL for imported records and for spans
-- written before this migration.
ALTER TABLE spans ADD COLUMN resolver TEXT;
DROP VIEW spans_seen;
CREATE VIEW spans_seen AS
SELECT s.id, s.domain_id, s.rrtype, s.status, s.rdata, s.time_first,
       coalesce(h.time_last, s.time_last) AS time_last, s.count + coalesce(h.extra, 0) AS count,
       s.class, s.provider, s.fp_version, s.source_id, s.resolver
FROM spans s LEFT JOIN heads h ON h.span_id = s.id;
-- What a poll remembers of a domain's alerting between polls: the flap-damping penalty (a whole number) as of
-- `penalty_time`,
-- when suppression began and the view last alerted before it, the polls in a row resolvers disagreed on a
-- change and whether that was alerted, the last unconfirmed observation (JSON). No foreign key, as
-- domain_state (0003): domains are never deleted and a poll names them by the ids it claimed.
CREATE TABLE domain_alerting (
    domain_id            BIGINT           PRIMARY KEY,
    penalty              BIGINT           NOT NULL,
    penalty_time         BIGINT           NOT NULL,
    suppressed_since     BIGINT,
    alerted_view         TEXT,
    disagreement_polls   INTEGER          NOT NULL,
    disagreement_alerted INTEGER          NOT NULL,
    unconfirmed          TEXT
);
