-- When a resident last wrote to the bot (a message or an event of theirs): a channel
-- that may only answer for a while after (WeChat: 48 hours) asks before it pushes.
-- A push recipient may now be 'skipped': outside that window on their channel.
ALTER TABLE residents ADD COLUMN last_message_at REAL;
