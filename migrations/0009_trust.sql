-- Alerts and verdicts an analyst can trust (issue 20).
-- Provenance: the resolver (HOST:PORT) whose answer started a span; NULL for imported records and for spans
-- written before this migration (their resolver was not recorded).
ALTER TABLE spans ADD COLUMN resolver TEXT;
DROP VIEW spans_seen;
CREATE VIEW spans_seen AS
SELECT s.id, s.domain_id, s.rrtype, s.status, s.rdata, s.time_first,
       coalesce(h.time_last, s.time_last) AS time_last, s.count + coalesce(h.extra, 0) AS count,
       s.class, s.provider, s.fp_version, s.source_id, s.resolver
FROM spans s LEFT JOIN heads h ON h.span_id = s.id;
-- What a poll remembers of a domain's alerting between polls (a row only once there is something to
-- remember): the flap-damping penalty (RFC 2439, rounded to a whole number) as of `penalty_time`, when suppression began (NULL while
-- the domain alerts) and the view last alerted before it (JSON, as `transitions.to_view`); how many polls in a
-- row resolvers disagreed on a change and whether that was alerted; the last unconfirmed observation (JSON).
CREATE TABLE domain_alerting (
    domain_id          INTEGER PRIMARY KEY REFERENCES domains(id),
    penalty            INTEGER NOT NULL,
    penalty_time       INTEGER NOT NULL,
    suppressed_since   INTEGER,
    alerted_view       TEXT,
    disagreement_polls INTEGER NOT NULL,
    disagreement_alerted INTEGER NOT NULL,
    unconfirmed        TEXT
) WITHOUT ROWID;
