-- A name on the leaderboard is masked (王** for 王小明) unless it was made to be shown:
-- a WeChat resident's generated 微信用户·a1b2, or the nickname they chose.
ALTER TABLE quiz_players ADD COLUMN shown_as_is INTEGER NOT NULL DEFAULT 0;
