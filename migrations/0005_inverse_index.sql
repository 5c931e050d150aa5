-- Indexes for the inverse and name queries (`ip`, `triage`, the passive-DNS endpoints of `serve`):
-- every lookup is a range scan of an index, and no join goes without one.

-- Names with their labels reversed (`www.example.com` → `com.example.www`): a name is an equality, a
-- left-hand wildcard `*.example.com` a range (`com.example.` up to `com.example/`).
ALTER TABLE domains ADD COLUMN rname TEXT;
CREATE INDEX domains_by_rname ON domains(rname);

-- One row per value of a NOERROR A, AAAA, NS or CNAME span, keyed so that a range scan finds it:
-- an address is a family byte (4 or 6) and its bytes in network order, so that a CIDR block is one
-- range; a name (NS, CNAME) is the byte 'N' and its reversed name, so that a wildcard is one range.
-- Rows are written with their span, by the same code (HistoryStore's ValueKey); the Swift step of this
-- migration fills the table for the spans already stored.
-- Within a value, rows are ordered by domain, so that the spans of one (value, domain) are consecutive
-- and a passive-DNS answer aggregated per (name, value) streams without holding a value's whole history.
CREATE TABLE span_values (
    key       BLOB    NOT NULL,
    domain_id INTEGER NOT NULL REFERENCES domains(id),
    span_id   INTEGER NOT NULL REFERENCES spans(id),
    PRIMARY KEY (key, domain_id, span_id)
) WITHOUT ROWID;

-- "Is this span a domain's current one?" by the span.
CREATE INDEX heads_by_span ON heads(span_id);

-- A domain's alerts (its timeline marks them).
CREATE INDEX alerts_by_domain ON alerts(domain, time);
