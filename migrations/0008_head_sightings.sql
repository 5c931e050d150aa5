-- A steady poll sees every current span again; it used to rewrite each one's time_last and count, a wide
-- row (it carries the rdata) per current span per poll, and its WAL. The running last sighting and count
-- of a current span now live in its narrow `heads` row instead (as PostgreSQL's 0003): `time_last`, NULL
-- until it is seen again, and `extra`, the sightings since. A poll writes them as one update of `heads`
-- by its primary key; they are folded into the span (`spans.time_last`, `spans.count`) when the span stops
-- being current, in the statement that replaces its head. Every reader reads spans through the view
-- `spans_seen`, which applies them: the same values as before.
ALTER TABLE heads ADD COLUMN time_last INTEGER;
ALTER TABLE heads ADD COLUMN extra INTEGER NOT NULL DEFAULT 0;
CREATE VIEW spans_seen AS
SELECT s.id, s.domain_id, s.rrtype, s.status, s.rdata, s.time_first,
       coalesce(h.time_last, s.time_last) AS time_last, s.count + coalesce(h.extra, 0) AS count,
       s.class, s.provider, s.fp_version, s.source_id
FROM spans s LEFT JOIN heads h ON h.span_id = s.id;
