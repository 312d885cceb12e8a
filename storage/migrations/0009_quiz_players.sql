-- The name a quiz player is shown by on the leaderboard (masked, e.g. 王**).
CREATE TABLE quiz_players (
    resident_id INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL
);
