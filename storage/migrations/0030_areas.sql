-- The area a case happened in: a 社区, 村 or key road section of the [areas] file, by
-- its key (placed from the coordinates, else from the names a typed address or the
-- text mentions). NULL: no areas configured, outside every area, or filed before.
ALTER TABLE reports ADD COLUMN area TEXT;
ALTER TABLE drafts ADD COLUMN area TEXT;
CREATE INDEX reports_area ON reports (area, created_at);
