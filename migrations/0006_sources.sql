-- Other sensors' passive DNS (`dnswatch import cof`): each source is named once, and each record it
-- exported is stored as a span of that source, so the inverse index (span_values) and every lookup serve
-- it as they serve a polled span. `source_id` NULL: dnswatch's own polls.
CREATE TABLE sources (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL UNIQUE,
    created INTEGER NOT NULL
);

ALTER TABLE spans ADD COLUMN source_id INTEGER REFERENCES sources(id);

-- One imported span per (name, type, rdata set, source): a record imported again (or a later, cumulative
-- export of the same source) merges into it (the earliest first, the latest last, the largest count).
-- Imported spans are never heads: they never make a domain's current answer, state or alerts.
CREATE UNIQUE INDEX spans_imported ON spans(domain_id, rrtype, rdata, source_id) WHERE source_id IS NOT NULL;
