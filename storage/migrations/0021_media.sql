-- Photos a channel cannot name for another one (a WeChat media id expires in
-- three days and means nothing to Telegram): the bytes are kept here, and a
-- draft's or report's photo is then "media:<id>". Telegram's own file ids stay
-- as they are: Telegram serves them for as long as the bot needs them.
CREATE TABLE media (
    id            INTEGER PRIMARY KEY,
    channel       TEXT    NOT NULL,
    external_id   TEXT    NOT NULL,   -- the channel's id of it (a WeChat MediaId)
    content_type  TEXT    NOT NULL,
    data          BLOB    NOT NULL,
    created_at    REAL    NOT NULL,
    UNIQUE (channel, external_id)
);
