"""Quizzes: rounds, the polls they went out as, answers, players and push subscribers."""

from __future__ import annotations

import json
import sqlite3

from quizzes.records import Poll, Round, Standing
from storage.db import Connection, execute, fetch_all, fetch_one, fetch_value


def _round(row: sqlite3.Row | None) -> Round | None:
    if row is None:
        return None
    return Round(
        row["id"],
        row["resident_id"],
        row["topic"],
        tuple(json.loads(row["questions"])),
        row["position"],
        row["status"],
    )


def _poll(row: sqlite3.Row) -> Poll:
    return Poll(
        row["poll_id"],
        row["round_id"],
        row["question_id"],
        row["position"],
        row["sent_at"],
        row["answered_at"],
        row["correct"],
        row["expires_at"],
        None if row["shown_order"] is None else tuple(json.loads(row["shown_order"])),
    )


# Subscribers


async def subscription(conn: Connection, resident_id: int) -> bool | None:
    """Whether the resident's daily push is on; None if they never chose."""
    row = await fetch_one(
        conn,
        "SELECT active FROM quiz_subscribers WHERE resident_id = ?",
        (resident_id,),
    )
    return None if row is None else bool(row[0])


async def subscribe(conn: Connection, resident_id: int, active: bool, now: float) -> None:
    """Turn the resident's daily push on or off."""
    await execute(
        conn,
        "INSERT INTO quiz_subscribers (resident_id, active, changed_at)"
        " VALUES (?,?,?) ON CONFLICT (resident_id) DO UPDATE SET"
        " active = excluded.active, changed_at = excluded.changed_at",
        (resident_id, int(active), now),
    )


async def unsubscribe(conn: Connection, resident_id: int, now: float) -> None:
    """Turn the resident's daily push off (keeping the row, so the choice is known)."""
    await execute(
        conn,
        "UPDATE quiz_subscribers SET active = 0, changed_at = ? WHERE resident_id = ?",
        (now, resident_id),
    )


# Players, answers and what they add up to


async def save_player(conn: Connection, resident_id: int, name: str, as_is: bool = False) -> None:
    """Remember the name a resident is shown under on the leaderboard (`as_is`: unmasked)."""
    await execute(
        conn,
        "INSERT INTO quiz_players (resident_id, name, shown_as_is) VALUES (?, ?, ?)"
        " ON CONFLICT (resident_id) DO UPDATE SET name = excluded.name,"
        " shown_as_is = excluded.shown_as_is",
        (resident_id, name, int(as_is)),
    )


async def player_name(conn: Connection, resident_id: int) -> str | None:
    value = await fetch_value(
        conn, "SELECT name FROM quiz_players WHERE resident_id = ?", (resident_id,)
    )
    return None if value is None else str(value)


async def participants(conn: Connection) -> int:
    """How many residents have answered at least one question."""
    return int(await fetch_value(conn, "SELECT COUNT(DISTINCT resident_id) FROM quiz_answers") or 0)


async def topic_figures(conn: Connection) -> list[tuple[str, int, float]]:
    """Per topic: (topic, answers, share right), weakest first."""
    rows = await fetch_all(
        conn,
        "SELECT topic, COUNT(*), AVG(correct) FROM quiz_answers"
        " GROUP BY topic ORDER BY AVG(correct), topic",
    )
    return [(r[0], int(r[1]), float(r[2])) for r in rows]


async def standings(conn: Connection, since: float) -> list[Standing]:
    """Everyone with points since `since`, ranked (ties share a rank), best first."""
    rows = await fetch_all(
        conn,
        "SELECT a.resident_id, COALESCE(MAX(p.name), '') AS name, SUM(a.points) AS points,"
        " RANK() OVER (ORDER BY SUM(a.points) DESC) AS rank,"
        " COALESCE(MAX(p.shown_as_is), 0) AS as_is"
        " FROM quiz_answers a LEFT JOIN quiz_players p USING (resident_id)"
        " WHERE a.at >= ? GROUP BY a.resident_id HAVING SUM(a.points) > 0"
        " ORDER BY points DESC, a.resident_id",
        (since,),
    )
    return [
        Standing(r["rank"], r["resident_id"], r["name"], r["points"], bool(r["as_is"]))
        for r in rows
    ]


async def answer_times(conn: Connection, resident_id: int) -> list[float]:
    """When the resident answered, latest first; capped at 1000 to bound a streak's cost."""
    rows = await fetch_all(
        conn,
        "SELECT at FROM quiz_answers WHERE resident_id = ? ORDER BY at DESC LIMIT 1000",
        (resident_id,),
    )
    return [r[0] for r in rows]


async def answered_since(conn: Connection, resident_id: int, since: float) -> set[str]:
    """Ids of the questions the resident answered since `since`."""
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT question_id FROM quiz_answers WHERE resident_id = ? AND at >= ?",
        (resident_id, since),
    )
    return {r[0] for r in rows}


async def add_answer(
    conn: Connection,
    *,
    resident_id: int,
    question_id: str,
    topic: str,
    correct: bool,
    points: int,
    now: float,
) -> None:
    """Record one scored answer."""
    await execute(
        conn,
        "INSERT INTO quiz_answers (resident_id, question_id, topic, correct, points, at)"
        " VALUES (?,?,?,?,?,?)",
        (resident_id, question_id, topic, int(correct), points, now),
    )


# Rounds and their polls


async def finish_open_rounds(conn: Connection, resident_id: int, now: float) -> None:
    """Finish whatever round the resident still has open."""
    await execute(
        conn,
        "UPDATE quiz_rounds SET status = 'finished', finished_at = ?"
        " WHERE resident_id = ? AND status = 'open'",
        (now, resident_id),
    )


async def insert_round(
    conn: Connection,
    *,
    resident_id: int,
    topic: str | None,
    questions: list[str],
    now: float,
) -> Round:
    """Open a round over the given question ids, in that order."""
    row = await fetch_one(
        conn,
        "INSERT INTO quiz_rounds (resident_id, topic, questions, started_at)"
        " VALUES (?,?,?,?) RETURNING *",
        (resident_id, topic, json.dumps(questions), now),
    )
    round_ = _round(row)
    assert round_ is not None
    return round_


async def get_round(conn: Connection, round_id: int) -> Round | None:
    """The round with this id, if any."""
    return _round(await fetch_one(conn, "SELECT * FROM quiz_rounds WHERE id = ?", (round_id,)))


async def advance_round(conn: Connection, round_id: int, position: int) -> Round | None:
    """Move the round on to `position` (questions sent or skipped); the round as it is now."""
    row = await fetch_one(
        conn,
        "UPDATE quiz_rounds SET position = ? WHERE id = ? RETURNING *",
        (position, round_id),
    )
    return _round(row)


async def finish_round(conn: Connection, round_id: int, now: float) -> None:
    """Mark the round finished."""
    await execute(
        conn,
        "UPDATE quiz_rounds SET status = 'finished', finished_at = ? WHERE id = ?",
        (now, round_id),
    )


async def add_poll(
    conn: Connection,
    *,
    poll_id: str,
    round_id: int,
    question_id: str,
    position: int,
    now: float,
    expires_at: float,
    shown_order: tuple[int, ...] | None = None,
) -> None:
    """Record the poll a round's question went out as, when it times out, and the order
    its options were shown in (the bank's index of each)."""
    order = None if shown_order is None else json.dumps(list(shown_order))
    await execute(
        conn,
        "INSERT INTO quiz_polls"
        " (poll_id, round_id, question_id, position, sent_at, expires_at, shown_order)"
        " VALUES (?,?,?,?,?,?,?)",
        (poll_id, round_id, question_id, position, now, expires_at, order),
    )


async def open_deadlines(conn: Connection, default_seconds: float) -> list[tuple[str, float]]:
    """(poll id, when it times out) for every unanswered question of an open round;
    a poll stored without a deadline times out `default_seconds` after it was sent."""
    rows = await fetch_all(
        conn,
        "SELECT p.poll_id, COALESCE(p.expires_at, p.sent_at + ?) FROM quiz_polls p"
        " JOIN quiz_rounds r ON r.id = p.round_id"
        " WHERE r.status = 'open' AND p.answered_at IS NULL ORDER BY p.sent_at",
        (default_seconds,),
    )
    return [(r[0], float(r[1])) for r in rows]


async def get_poll(conn: Connection, poll_id: str) -> Poll | None:
    """The poll with this id, if it is one of ours."""
    row = await fetch_one(conn, "SELECT * FROM quiz_polls WHERE poll_id = ?", (poll_id,))
    return None if row is None else _poll(row)


async def poll_and_player(conn: Connection, poll_id: str) -> tuple[Poll, int] | None:
    """The poll with this id and the resident whose round it belongs to, if it is ours."""
    row = await fetch_one(
        conn,
        "SELECT p.*, r.resident_id FROM quiz_polls p JOIN quiz_rounds r"
        " ON r.id = p.round_id WHERE p.poll_id = ?",
        (poll_id,),
    )
    return None if row is None else (_poll(row), row["resident_id"])


async def close_poll(conn: Connection, poll_id: str, now: float, correct: bool) -> None:
    """Mark the poll answered (an expired one counts as answered wrong)."""
    await execute(
        conn,
        "UPDATE quiz_polls SET answered_at = ?, correct = ? WHERE poll_id = ?",
        (now, int(correct), poll_id),
    )


async def open_polls(conn: Connection, round_id: int) -> int:
    """How many of the round's polls are still waiting for an answer."""
    return int(
        await fetch_value(
            conn,
            "SELECT COUNT(*) FROM quiz_polls WHERE round_id = ? AND answered_at IS NULL",
            (round_id,),
        )
    )


async def poll_results(conn: Connection, round_id: int) -> list[tuple[str, bool]]:
    """(question id, answered right) for each of the round's polls, in the order sent."""
    rows = await fetch_all(
        conn,
        "SELECT question_id, correct FROM quiz_polls WHERE round_id = ? ORDER BY position",
        (round_id,),
    )
    # NULL (never closed) reads as wrong, as it always has
    return [(r["question_id"], bool(r["correct"])) for r in rows]
