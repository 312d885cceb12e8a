-- /stats per area reads a period's cases by area: the covering index of the office's
-- figures holds the area too, so both queries are answered from it alone.
DROP INDEX reports_stats;
CREATE INDEX reports_stats
    ON reports (created_at, group_key, category, accepted_at, resolved_at, rating, area);
