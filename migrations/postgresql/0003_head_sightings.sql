-- A steady poll sees every current span again: on SQLite it rewrites each one's time_last and count; here
-- that was 60,000 wide row versions (and their WAL) a poll of 20,000 domains, the most of its time. The
-- running last sighting and count of a current span now live in its narrow `heads` row instead
-- (`time_last`, NULL until it is seen again, and `extra`, the sightings since), written by a poll as one
-- update of `heads` by its primary key; they are folded into the span (`spans.time_last`, `spans.count`)
-- when the span stops being current, in the statement that replaces its head. Every reader reads spans
-- through the view `spans_seen`, which applies them: the same values SQLite stores.
ALTER TABLE heads ADD COLUMN time_last BIGINT, ADD COLUMN extra BIGINT NOT NULL DEFAULT 0;
ALTER TABLE heads SET (fillfactor = 70);
CREATE VIEW spans_seen AS
SELECT s.id, s.domain_id, s.rrtype, s.status, s.rdata, s.time_first,
       coalesce(h.time_last, s.time_last) AS time_last, s.count + coalesce(h.extra, 0) AS count,
       s.class, s.provider, s.fp_version, s.source_id
FROM spans s LEFT JOIN heads h ON h.span_id = s.id;
-- Rows a poll inserts per domain or per answer name their domain by the id it claimed, and domains are never
-- deleted: like `heads` and `span_values` (0001), spans, domain_status and domain_state drop the foreign key
-- to `domains`, whose per-row check (a key-share lock of the domain's row) cost a fifth of a first poll.
ALTER TABLE spans DROP CONSTRAINT spans_domain_id_fkey;
ALTER TABLE domain_status DROP CONSTRAINT domain_status_domain_id_fkey;
ALTER TABLE domain_state DROP CONSTRAINT domain_state_domain_id_fkey;
