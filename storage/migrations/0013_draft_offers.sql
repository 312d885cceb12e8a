-- The open case the bot offered a draft to follow ("me too"): a 关注 button
-- may follow that case only, never one whose id was typed into forged data.
ALTER TABLE drafts ADD COLUMN offered_report_id INTEGER REFERENCES reports (id);
