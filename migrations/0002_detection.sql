-- Classification, domain state, transitions, alerts and their delivery outbox.

-- Derived class of each span (raw answers stay as they are; `fp_version` names the fingerprint
-- data that produced the class, so `dnswatch reclassify` can re-derive it).
ALTER TABLE spans ADD COLUMN class TEXT;
ALTER TABLE spans ADD COLUMN provider TEXT;
ALTER TABLE spans ADD COLUMN fp_version TEXT;

-- The current state of each domain (its class, plus the provider for parked and sinkhole). What it
-- was derived from is the domain's current spans (`heads`), classified with `fp_version`.
CREATE TABLE domain_state (
    domain_id   INTEGER PRIMARY KEY REFERENCES domains(id),
    class       TEXT    NOT NULL,
    provider    TEXT,
    since       INTEGER NOT NULL,        -- when the domain entered this state
    updated     INTEGER NOT NULL,
    fp_version  TEXT                     -- classifier version (fingerprints + own infrastructure)
);

CREATE TABLE transitions (
    id        INTEGER PRIMARY KEY,
    domain_id INTEGER NOT NULL REFERENCES domains(id),
    poll_id   INTEGER REFERENCES polls(id),
    time      INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    from_view TEXT    NOT NULL,          -- JSON
    to_view   TEXT    NOT NULL           -- JSON
);
CREATE INDEX transitions_by_domain ON transitions(domain_id, time);

CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    transition_id INTEGER NOT NULL UNIQUE REFERENCES transitions(id),
    time          INTEGER NOT NULL,
    domain        TEXT    NOT NULL,
    list          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    severity_rank INTEGER NOT NULL,      -- 0 info .. 4 critical
    payload       TEXT    NOT NULL       -- the alert as JSON, as delivered to sinks
);
CREATE INDEX alerts_by_time ON alerts(time);

-- The outbox: one row per (alert, sink). Pending rows are retried on later polls until delivered.
CREATE TABLE deliveries (
    alert_id     INTEGER NOT NULL REFERENCES alerts(id),
    sink         TEXT    NOT NULL,
    delivered    INTEGER,                -- epoch seconds; NULL while pending
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    PRIMARY KEY (alert_id, sink)
) WITHOUT ROWID;
CREATE INDEX deliveries_pending ON deliveries(sink) WHERE delivered IS NULL;

-- Origin-ASN answers (Team Cymru over DNS), cached with an expiry.
CREATE TABLE asn_cache (
    address  TEXT    PRIMARY KEY,
    asn      INTEGER,                    -- NULL: looked up, no origin known
    prefix   TEXT,
    country  TEXT,
    registry TEXT,
    fetched  INTEGER NOT NULL,
    expires  INTEGER NOT NULL
) WITHOUT ROWID;
