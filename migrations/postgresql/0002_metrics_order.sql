-- /metrics counts each finished poll and each alert once, by a number that only grows in the order the rows
-- become visible: an alert's id is taken under a transaction-level advisory lock held to its batch's commit
-- (so alerts commit in id order, whichever poller raised them), and a finished poll gets `finish_seq` under
-- another when it finishes (poll ids are taken when polls start, and polls of several pollers finish in
-- any order). On SQLite one poll runs at a time and ids serve.
ALTER TABLE polls ADD COLUMN finish_seq BIGINT;
CREATE SEQUENCE poll_finishes;
UPDATE polls SET finish_seq = o.n
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM polls WHERE finished IS NOT NULL) AS o WHERE polls.id = o.id;
SELECT setval('poll_finishes', coalesce((SELECT max(finish_seq) FROM polls), 0) + 1, false);
CREATE UNIQUE INDEX polls_by_finish ON polls(finish_seq);
