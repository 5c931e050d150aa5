-- dnswatch core schema: watchlists, domains, polls, and the span history.
-- History grows with changes, not with polls: one row per (domain, rrtype, answer) run.

CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('c2', 'owned', 'expired')),
    interval    INTEGER,                 -- seconds; NULL: the configured default for the kind
    description TEXT,
    created     INTEGER NOT NULL         -- epoch seconds
);

CREATE TABLE domains (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL UNIQUE,     -- normalised: lower case, A-labels, no trailing dot
    created INTEGER NOT NULL
);

-- A domain's place on a list. Removing it from a list retires the membership; its history stays.
CREATE TABLE memberships (
    list_id   INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    domain_id INTEGER NOT NULL REFERENCES domains(id),
    added     INTEGER NOT NULL,
    note      TEXT,
    retired   INTEGER,                   -- epoch seconds; NULL while active
    PRIMARY KEY (list_id, domain_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_domain ON memberships(domain_id);

-- One row per poll run. `finished` stays NULL for a run that was interrupted.
CREATE TABLE polls (
    id        INTEGER PRIMARY KEY,
    started   INTEGER NOT NULL,
    finished  INTEGER,
    domains   INTEGER NOT NULL DEFAULT 0,
    queries   INTEGER NOT NULL DEFAULT 0,
    answers   INTEGER NOT NULL DEFAULT 0,
    failures  INTEGER NOT NULL DEFAULT 0,
    changes   INTEGER NOT NULL DEFAULT 0,
    alerts    INTEGER NOT NULL DEFAULT 0,
    resolvers TEXT    NOT NULL DEFAULT ''
);

-- A span: the same answer seen from time_first to time_last, `count` times.
CREATE TABLE spans (
    id         INTEGER PRIMARY KEY,
    domain_id  INTEGER NOT NULL REFERENCES domains(id),
    rrtype     TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('NOERROR', 'NXDOMAIN', 'NODATA')),
    rdata      TEXT    NOT NULL,         -- sorted values joined by a newline; '' when none
    time_first INTEGER NOT NULL,
    time_last  INTEGER NOT NULL,
    count      INTEGER NOT NULL
);
CREATE INDEX spans_by_domain ON spans(domain_id, rrtype, time_first);

-- The current (latest) span of each (domain, rrtype); the primary key makes a duplicate head impossible.
CREATE TABLE heads (
    domain_id INTEGER NOT NULL REFERENCES domains(id),
    rrtype    TEXT    NOT NULL,
    span_id   INTEGER NOT NULL REFERENCES spans(id),
    PRIMARY KEY (domain_id, rrtype)
) WITHOUT ROWID;

-- Per domain: when it was last polled, and its last failed lookup (failures never become spans).
CREATE TABLE domain_status (
    domain_id        INTEGER PRIMARY KEY REFERENCES domains(id),
    last_polled      INTEGER,
    last_failure     INTEGER,
    last_failure_type TEXT,
    last_failure_kind TEXT
);
