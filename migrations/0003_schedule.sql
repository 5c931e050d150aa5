-- Scheduling: when each domain is next due (`poll --due`), with per-domain jitter.
ALTER TABLE domain_status ADD COLUMN next_due INTEGER;
CREATE INDEX domain_status_due ON domain_status(next_due);
