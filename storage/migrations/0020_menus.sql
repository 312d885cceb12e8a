-- The choices last offered in a chat whose channel has no buttons that carry data
-- (WeChat: a msgmenu's items are numbered, and the resident may tap one or type
-- its number): number n means the n-th data of `choices` (a JSON list).
CREATE TABLE message_menus (
    channel     TEXT    NOT NULL,
    chat        TEXT    NOT NULL,
    choices     TEXT    NOT NULL,
    at          REAL    NOT NULL,
    PRIMARY KEY (channel, chat)
);
