-- A hash of each domain's last answers (all types asked, as received), so that a poll can tell an
-- unchanged domain without reading its spans: its current spans are then extended in bulk.
ALTER TABLE domain_status ADD COLUMN answer_hash INTEGER;
