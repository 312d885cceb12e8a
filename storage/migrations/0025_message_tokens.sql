-- What a channel needs to change one of its messages later, beside the message: a
-- WeCom card is updated with a response code that works once, within 72 hours, and
-- each press brings a new one. The latest unused one is kept here, with its time.
ALTER TABLE message_refs ADD COLUMN token TEXT;
ALTER TABLE message_refs ADD COLUMN token_at REAL;
