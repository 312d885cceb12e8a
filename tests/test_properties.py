"""Properties of the pure rules: what holds for any input, not just the examples.

Case transitions, callback data, text normalisation, tickets, deadlines, distances
and quiz scoring. The examples live in tests/test_rules.py; the number of examples
drawn here is set by the hypothesis profile in tests/conftest.py.
"""

from __future__ import annotations

import math
import re
import string
from datetime import datetime

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from dialogue import callbacks
from dialogue.callbacks import Button
from quizzes.scoring import POINTS_PER_CORRECT, is_correct, mask, points, streak
from reports.deadlines import HOUR, Kind, Level, Limits, due, next_due, notices
from reports.geo import EARTH_RADIUS_M, box, distance_m
from reports.normalize import _translation, normalize
from reports.states import (
    GROUP_ACTIONS,
    Action,
    Status,
    TransitionRefused,
    allowed_actions,
    next_status,
)
from reports.tickets import make_ticket, parse_ticket

statuses = st.sampled_from(Status)
actions = st.sampled_from(Action)

# ---------------------------------------------------------------- case transitions

OPEN = {Status.SUBMITTED, Status.REOPENED, Status.ACCEPTED}
FINAL = {Status.REJECTED, Status.CLOSED, Status.DUPLICATE}
RESIDENT_ACTIONS = {Action.REOPEN, Action.CLOSE}


def step(status: Status, action: Action) -> Status:
    """One action on a case: the new state, or the same one when it is refused."""
    try:
        return next_status(status, action)
    except TransitionRefused as refused:
        assert (refused.status, refused.action) == (status, action)
        return status


@given(statuses, st.lists(actions, max_size=30))
def test_any_sequence_of_actions_keeps_a_case_in_a_legal_state(
    start: Status, history: list[Action]
) -> None:
    status = start
    for action in history:
        after = step(status, action)
        assert isinstance(after, Status)
        if status in FINAL:
            assert after == status, f"a {status} case moved on {action}"
        if after != status or (status, action) == (Status.ACCEPTED, Action.REASSIGN):
            moved_by_group = action in GROUP_ACTIONS
            assert moved_by_group == (status in OPEN), f"{action} moved a {status} case"
        status = after


@given(statuses, actions)
def test_every_action_either_moves_a_case_or_is_refused_with_its_reason(
    status: Status, action: Action
) -> None:
    try:
        after = next_status(status.value, action.value)  # stored as text, read back as text
    except TransitionRefused as refused:
        assert (refused.status, refused.action) == (status, action)
        assert str(refused) == f"cannot {action} a {status} case"  # what the log says
        assert action not in allowed_actions(status)
    else:
        assert isinstance(after, Status)
        assert action in allowed_actions(status) or action in RESIDENT_ACTIONS


@given(statuses)
def test_the_buttons_offered_are_exactly_the_group_actions_that_apply(status: Status) -> None:
    def applies(action: Action) -> bool:
        try:
            next_status(status, action)
        except TransitionRefused:
            return False
        return True

    assert allowed_actions(status) == [a for a in GROUP_ACTIONS if applies(a)]


@given(st.sampled_from(sorted(OPEN)), st.sampled_from(GROUP_ACTIONS))
def test_a_group_action_on_an_open_case_has_the_same_outcome_whatever_the_open_state(
    status: Status, action: Action
) -> None:
    expected = {
        Action.ACCEPT: Status.ACCEPTED,
        Action.RESOLVE: Status.RESOLVED,
        Action.REASSIGN: Status.SUBMITTED,
        Action.REJECT: Status.REJECTED,
        Action.MERGE: Status.DUPLICATE,
    }[action]
    if (status, action) == (Status.ACCEPTED, Action.ACCEPT):
        with pytest.raises(TransitionRefused):
            next_status(status, action)
    else:
        assert next_status(status, action) == expected


@given(statuses, st.sampled_from(sorted(RESIDENT_ACTIONS)))
def test_only_a_resolved_case_is_reopened_or_closed(status: Status, action: Action) -> None:
    if status == Status.RESOLVED:
        expected = Status.REOPENED if action == Action.REOPEN else Status.CLOSED
        assert next_status(status, action) == expected
    else:
        with pytest.raises(TransitionRefused):
            next_status(status, action)


@given(st.sampled_from(sorted(FINAL | {Status.RESOLVED})))
def test_a_resolved_or_finished_case_offers_the_group_no_button(status: Status) -> None:
    assert allowed_actions(status) == []


# ---------------------------------------------------------------- callback data

draft_actions = st.sampled_from(sorted(callbacks.DRAFT_ACTIONS))
report_actions = st.sampled_from(sorted(callbacks.REPORT_ACTIONS))
ids = st.integers(min_value=0, max_value=10**12 - 1)
args = st.text(alphabet=string.ascii_lowercase + string.digits + "_", min_size=1, max_size=32)


def encode(button: Button) -> str:
    """The data our own builders write for a button."""
    if button.scope == "d":
        return callbacks.draft_button(button.action, button.id, button.arg)
    if button.scope == "r":
        return callbacks.report_button(button.action, button.id, button.arg)
    if button.action in callbacks.SURVEY_ACTIONS:
        return callbacks.survey_choice(button.action, button.arg)
    if button.action == "qa":
        position, option = callbacks.quiz_answer_of(button) or (-1, -1)
        return callbacks.quiz_answer(button.id, position, option)
    return callbacks.quiz_button(button.action)


@st.composite
def buttons(draw: st.DrawFn) -> Button:
    scope = draw(st.sampled_from("drq"))
    if scope == "q":
        action = draw(st.sampled_from(sorted(callbacks.QUIZ_ACTIONS)))
        item_id = draw(ids.filter(bool)) if action in callbacks.QUIZ_WITH_ID else 0
    else:
        action = draw(draft_actions if scope == "d" else report_actions)
        item_id = draw(ids)
    if action == "qa":  # a text quiz's answer: question position and option
        position, option = draw(st.integers(0, 999)), draw(st.integers(0, 11))
        return Button(scope, action, item_id, f"{position}_{option}")
    if scope == "q" and action in callbacks.SURVEY_ARGS:  # one of the answers offered
        return Button(
            scope, action, item_id, draw(st.sampled_from(sorted(callbacks.SURVEY_ARGS[action])))
        )
    arg = draw(args) if action in callbacks.WITH_ARG else None
    if scope == "q" and action == "cp":  # a page number
        arg = str(draw(st.integers(1, 999)))
    elif scope == "q" and action == "pc":  # an area key
        arg = draw(st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True))
    return Button(scope, action, item_id, arg)


@given(buttons())
def test_every_button_we_build_parses_back_and_fits_telegram(button: Button) -> None:
    data = encode(button)
    assert len(data.encode()) <= 64
    assert callbacks.parse(data) == button


# Near misses: the pieces of valid data, shuffled, doubled, cut and dressed up.
pieces = st.sampled_from(
    ["v1", "v0", "v2", ":", "d", "r", "q", "x", "ok", "set", "acc", "rt", "sv", "go", "fol",
     "0", "1", "007", "42", "123456789012", "1234567890123", "-1", "١٢", "０",
     "abc", "a_b", "X", "\n", " ", "", ":" * 2, "é", "\x00", "a" * 33]
)  # fmt: skip
near_misses = st.lists(pieces, max_size=9).map("".join)
all_actions = sorted(callbacks.DRAFT_ACTIONS | callbacks.REPORT_ACTIONS | callbacks.QUIZ_ACTIONS)
shaped = st.builds(  # the right shape, with any scope, action, id and argument
    "v1:{}:{}:{}{}".format,
    st.sampled_from("drqx"),
    st.one_of(st.sampled_from(all_actions), st.text(string.ascii_lowercase, max_size=5)),
    st.one_of(ids.map(str), st.sampled_from(["007", "00", "-1", "1e3", "١"])),
    st.one_of(st.just(""), args.map(":{}".format), st.sampled_from([":", ":A", ":a b"])),
)
from_bytes = st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", "surrogateescape"))


@given(st.one_of(shaped, near_misses, st.text(max_size=80), from_bytes))
@example("v1:d:ok:1\n")
@example("v1:d:ok:007")
@example("v1:r:acc:١٢")
@example("v1:q:go:5")
def test_any_callback_data_is_refused_or_round_trips(data: str) -> None:
    button = callbacks.parse(data)
    if button is not None:
        assert encode(button) == data
        assert (button.arg is not None) == (button.action in callbacks.WITH_ARG)


@given(st.sampled_from("drq"), st.sampled_from(all_actions), st.one_of(st.none(), args))
def test_a_button_is_accepted_only_with_an_action_of_its_scope_and_the_argument_it_takes(
    scope: str, action: str, arg: str | None
) -> None:
    data = f"v1:{scope}:{action}:0" + (f":{arg}" if arg else "")
    scoped = {"d": callbacks.DRAFT_ACTIONS, "r": callbacks.REPORT_ACTIONS}
    valid = (
        action in scoped.get(scope, callbacks.QUIZ_ACTIONS)
        and (arg is not None) == (action in callbacks.WITH_ARG)
        # a text quiz's answer names its round: never the 0 of buttons that name none
        and not (scope == "q" and action in callbacks.QUIZ_WITH_ID)
        # the survey's buttons carry only the answers it offers
        and not (scope == "q" and not callbacks.survey_arg_ok(action, arg))
    )
    assert (callbacks.parse(data) is not None) == valid


@given(st.one_of(st.none(), st.text(max_size=80), from_bytes))
def test_parsing_callback_data_never_raises(data: str | None) -> None:
    callbacks.parse(data)


# ---------------------------------------------------------------- text normalisation

FULL_WIDTH = {ord(c): chr(ord(c) + 0xFEE0) for c in string.ascii_letters + string.digits}
INVISIBLE = ["\ufe0f", "\ufe0e", "\u200b", "\u200c", "\u200d", "\ufeff"]
traditional = st.sampled_from(sorted(k for k, v in _translation().items() if v))
texts = st.text(max_size=60)
cjk_texts = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from(string.ascii_letters + string.digits + " 　\t\n，。！"),
    ),
    max_size=40,
)


@given(st.one_of(texts, cjk_texts))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.one_of(texts, cjk_texts))
def test_normalised_text_has_single_spaces_and_no_invisible_or_wide_characters(
    text: str,
) -> None:
    result = normalize(text)
    assert result == result.strip()
    assert "  " not in result
    assert not any(ch.isspace() and ch != " " for ch in result)
    assert not set(result) & set(INVISIBLE)
    assert not any(0xFF01 <= ord(ch) <= 0xFF5E for ch in result)
    assert not any("A" <= ch <= "Z" for ch in result)


@given(st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=40))
def test_full_width_letters_and_digits_read_as_half_width(text: str) -> None:
    assert normalize(text.translate(FULL_WIDTH)) == normalize(text) == normalize(text.lower())


@given(cjk_texts, st.lists(st.tuples(st.integers(0, 40), st.sampled_from(INVISIBLE))))
def test_invisible_characters_change_nothing(text: str, inserts: list[tuple[int, str]]) -> None:
    dressed = text
    for at, ch in inserts:
        dressed = dressed[:at] + ch + dressed[at:]
    assert normalize(dressed) == normalize(text)


@given(cjk_texts, traditional, cjk_texts)
def test_a_traditional_character_reads_as_its_simplified_form(
    before: str, char: int, after: str
) -> None:
    simplified = _translation()[char]
    assert simplified is not None
    assert normalize(before + chr(char) + after) == normalize(before + simplified + after)


# ---------------------------------------------------------------- tickets

days = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
sequences = st.integers(min_value=1, max_value=99_999)
FULL_WIDTH_DIGITS = {ord(str(i)): chr(0xFF10 + i) for i in range(10)}


@given(days, sequences)
def test_every_ticket_made_is_recognised_as_itself(day: datetime, sequence: int) -> None:
    ticket = make_ticket(day, sequence)
    assert ticket.startswith(day.strftime("%y%m%d") + "-")
    assert int(ticket.split("-")[1]) == sequence
    assert parse_ticket(ticket) == ticket


@given(
    days,
    sequences,
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from([" ", "\u3000", "\t"]))),
    st.booleans(),
    st.booleans(),
)
def test_a_ticket_is_recognised_however_it_is_typed(
    day: datetime, sequence: int, spaces: list[tuple[int, str]], wide: bool, no_dash: bool
) -> None:
    ticket = make_ticket(day, sequence)
    typed = ticket.replace("-", "" if no_dash else "－" if wide else "-")
    if wide:
        typed = typed.translate(FULL_WIDTH_DIGITS)
    for at, space in spaces:
        typed = typed[:at] + space + typed[at:]
    assert parse_ticket(typed) == ticket


def digits_typed(text: str) -> str:
    """The digits a resident typed, ASCII or full-width, as ASCII."""
    wide = {chr(0xFF10 + i): str(i) for i in range(10)}
    return "".join(wide.get(ch, ch) for ch in text if ch in wide or ch in string.digits)


@given(st.one_of(st.text(max_size=20), st.text(alphabet="0123456789-－ ١٢３：", max_size=14)))
@example("１２３４５６-٠٠٧")
@example("261128-00：")
def test_any_text_is_no_ticket_or_a_well_formed_one_of_the_digits_typed(text: str) -> None:
    ticket = parse_ticket(text)
    if ticket is not None:
        assert re.fullmatch(r"[0-9]{6}-[0-9]{3,}", ticket), ticket
        assert ticket.replace("-", "") == digits_typed(text)
        assert parse_ticket(ticket) == ticket


# ---------------------------------------------------------------- deadlines

hours = st.floats(min_value=0.1, max_value=500, allow_nan=False)
limits = st.builds(Limits, accept_hours=hours, resolve_hours=hours, escalate_after_hours=hours)
moments = st.floats(min_value=0, max_value=1e9, allow_nan=False)
spans = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False)
CASE_STATUSES = st.sampled_from([s.value for s in Status])


@given(CASE_STATUSES, moments, limits, spans)
def test_notices_are_earned_only_after_the_deadline_and_escalate_only_past_the_grace(
    status: str, assigned_at: float, lim: Limits, elapsed: float
) -> None:
    now = assigned_at + elapsed
    found = notices(status, assigned_at, lim, now)
    for notice in found:
        deadline = assigned_at + HOUR * (
            lim.accept_hours if notice.kind == Kind.ACCEPT else lim.resolve_hours
        )
        assert notice.late == now - deadline > 0
        if notice.level == Level.ESCALATE:
            assert notice.late > lim.escalate_after_hours * HOUR
            assert (notice.kind, Level.REMIND) in {(n.kind, n.level) for n in found}
        else:
            escalated = notice.late > lim.escalate_after_hours * HOUR
            assert escalated == any(
                n.kind == notice.kind and n.level == Level.ESCALATE for n in found
            )
    if Status(status) not in OPEN:
        assert found == []
    if Status(status) == Status.ACCEPTED:
        assert all(n.kind == Kind.RESOLVE for n in found)


AWAITED_BY = {  # what each open case still owes: acceptance first, resolution throughout
    Status.SUBMITTED: {Kind.ACCEPT, Kind.RESOLVE},
    Status.REOPENED: {Kind.ACCEPT, Kind.RESOLVE},
    Status.ACCEPTED: {Kind.RESOLVE},
}


@given(st.sampled_from(sorted(OPEN)), moments, limits, spans)
def test_every_deadline_an_open_case_has_passed_earns_a_reminder(
    status: Status, assigned_at: float, lim: Limits, elapsed: float
) -> None:
    now = assigned_at + elapsed
    earned = {(n.kind, n.level) for n in notices(status, assigned_at, lim, now)}
    for kind in AWAITED_BY[status]:
        hours = lim.accept_hours if kind == Kind.ACCEPT else lim.resolve_hours
        if now > assigned_at + hours * HOUR:
            assert (kind, Level.REMIND) in earned


@given(st.sampled_from([Status.SUBMITTED, Status.REOPENED]), moments, hours, hours, hours)
def test_a_case_can_be_late_to_resolve_before_it_is_late_to_accept(
    status: Status, assigned_at: float, first: float, second: float, grace: float
) -> None:
    """A category may set a resolve limit shorter than the district's accept limit."""
    lim = Limits(accept_hours=second, resolve_hours=first, escalate_after_hours=grace)
    now = assigned_at + HOUR * (first + second) / 2
    # Strictly between the two deadlines as floats compute them (not only as reals).
    assume(due(assigned_at, lim, Kind.RESOLVE) < now < due(assigned_at, lim, Kind.ACCEPT))
    earned = {(n.kind, n.level) for n in notices(status, assigned_at, lim, now)}
    assert (Kind.RESOLVE, Level.REMIND) in earned
    assert (Kind.ACCEPT, Level.REMIND) not in earned


whole_hours = st.integers(min_value=1, max_value=100).map(float)


@given(
    st.sampled_from(sorted(OPEN)),
    st.integers(0, 10**9).map(float),
    st.builds(Limits, whole_hours, whole_hours, whole_hours),
)
def test_escalation_comes_only_once_the_grace_is_over_not_at_its_end(
    status: Status, assigned_at: float, lim: Limits
) -> None:
    due = next_due(status, assigned_at, lim)
    assert due is not None
    grace_over = due.at + lim.escalate_after_hours * HOUR

    def escalated(now: float) -> bool:
        found = notices(status, assigned_at, lim, now)
        return (due.kind, Level.ESCALATE) in {(n.kind, n.level) for n in found}

    assert not escalated(grace_over)
    assert escalated(grace_over + 1)


@given(CASE_STATUSES, moments, limits, spans, st.floats(min_value=0, max_value=1e7))
def test_a_late_case_stays_late(
    status: str, assigned_at: float, lim: Limits, elapsed: float, more: float
) -> None:
    earlier = notices(status, assigned_at, lim, assigned_at + elapsed)
    later = notices(status, assigned_at, lim, assigned_at + elapsed + more)
    assert {(n.kind, n.level) for n in earlier} <= {(n.kind, n.level) for n in later}


@given(st.sampled_from(sorted(OPEN)), moments, limits)
def test_an_open_case_is_reminded_just_past_its_next_deadline_and_not_at_it(
    status: Status, assigned_at: float, lim: Limits
) -> None:
    due = next_due(status, assigned_at, lim)
    assert due is not None
    assert due.kind == (Kind.RESOLVE if status == Status.ACCEPTED else Kind.ACCEPT)
    assert due.at == assigned_at + HOUR * (
        lim.resolve_hours if due.kind == Kind.RESOLVE else lim.accept_hours
    )
    assert not [n for n in notices(status, assigned_at, lim, due.at) if n.kind == due.kind]
    just_after = notices(status, assigned_at, lim, due.at + 1)
    assert (due.kind, Level.REMIND) in {(n.kind, n.level) for n in just_after}


@given(st.sampled_from(sorted(FINAL | {Status.RESOLVED})), moments, limits)
def test_a_resolved_or_finished_case_has_no_deadline(
    status: Status, assigned_at: float, lim: Limits
) -> None:
    assert next_due(status, assigned_at, lim) is None


# ---------------------------------------------------------------- distances

latitudes = st.floats(min_value=-70, max_value=70, allow_nan=False)
longitudes = st.floats(min_value=-179, max_value=179, allow_nan=False)
points_on_earth = st.tuples(latitudes, longitudes)
offsets = st.floats(min_value=-0.05, max_value=0.05, allow_nan=False)  # up to ~5 km


@given(points_on_earth, points_on_earth)
def test_distance_is_symmetric_non_negative_and_bounded(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    there = distance_m(*a, *b)
    assert there == pytest.approx(distance_m(*b, *a), abs=1e-6)
    assert 0 <= there <= math.pi * EARTH_RADIUS_M + 1e-6
    assert distance_m(*a, *a) == 0


@given(points_on_earth, offsets, offsets, offsets, offsets)
def test_a_detour_is_never_shorter(
    a: tuple[float, float], dlat1: float, dlon1: float, dlat2: float, dlon2: float
) -> None:
    b = (a[0] + dlat1, a[1] + dlon1)
    c = (b[0] + dlat2, b[1] + dlon2)
    assert distance_m(*a, *c) <= distance_m(*a, *b) + distance_m(*b, *c) + 1e-6


@given(latitudes, longitudes, st.floats(min_value=0, max_value=0.2))
def test_a_degree_of_latitude_is_about_111_km(lat: float, lon: float, dlat: float) -> None:
    assume(abs(lat + dlat) <= 90)
    expected = math.radians(dlat) * EARTH_RADIUS_M
    assert distance_m(lat, lon, lat + dlat, lon) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def destination(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    """The point `metres` away from (lat, lon) heading `bearing` degrees from north."""
    p, d, b = math.radians(lat), metres / EARTH_RADIUS_M, math.radians(bearing)
    p2 = math.asin(math.sin(p) * math.cos(d) + math.cos(p) * math.sin(d) * math.cos(b))
    dl = math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p), math.cos(d) - math.sin(p) * math.sin(p2)
    )
    return math.degrees(p2), lon + math.degrees(dl)


bearings = st.one_of(st.floats(0, 360), st.floats(89, 90), st.floats(270, 271))


@given(points_on_earth, st.floats(min_value=1, max_value=5000), bearings, st.floats(0, 1))
@example((70.0, 0.0), 5000.0, 89.93, 1.0)  # the circle's widest point: poleward of due east
def test_the_search_box_holds_every_point_within_the_radius(
    centre: tuple[float, float], radius: float, bearing: float, share: float
) -> None:
    lat, lon = destination(*centre, radius * share * (1 - 1e-9), bearing)
    south, north, west, east = box(*centre, radius)
    assert south <= lat <= north
    assert west <= lon <= east


@given(
    st.floats(min_value=1, max_value=5000),
    st.floats(min_value=0, max_value=0.999),
    longitudes,
    st.booleans(),
)
def test_a_search_box_around_a_pole_spans_every_longitude(
    radius: float, share: float, lon: float, south: bool
) -> None:
    lat = 90 - math.degrees(radius / EARTH_RADIUS_M) * share  # the pole is within the radius
    lat = -lat if south else lat
    _, _, west, east = box(lat, lon, radius)
    assert (west, east) == (lon - 180, lon + 180)


@given(points_on_earth, st.floats(min_value=1, max_value=5000))
def test_the_search_box_is_not_much_wider_than_the_circle(
    centre: tuple[float, float], radius: float
) -> None:
    south, north, west, east = box(*centre, radius)
    lat, lon = centre
    assert distance_m(south, lon, lat, lon) == pytest.approx(radius, rel=1e-6)
    assert distance_m(north, lon, lat, lon) == pytest.approx(radius, rel=1e-6)
    # East and west, along the parallel: about the radius, neither half nor double.
    assert distance_m(lat, west, lat, lon) == pytest.approx(radius, rel=1e-3)
    assert distance_m(lat, east, lat, lon) == pytest.approx(radius, rel=1e-3)


# ---------------------------------------------------------------- quiz scoring

options = st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True)


@given(options, st.randoms())
def test_the_correct_options_in_any_order_score_full_points(
    correct: list[int], rng: object
) -> None:
    chosen = list(correct)
    rng.shuffle(chosen)  # type: ignore[attr-defined]
    assert is_correct(chosen, correct)
    assert points(is_correct(chosen, correct)) == POINTS_PER_CORRECT


@given(options, options)
def test_any_other_choice_scores_nothing(correct: list[int], chosen: list[int]) -> None:
    assume(set(chosen) != set(correct))
    assert not is_correct(chosen, correct)
    assert points(is_correct(chosen, correct)) == 0


DAY = 86400.0


def day_start(t: float) -> float:
    return t - t % DAY


@given(
    st.sets(st.integers(0, 30)),
    st.lists(st.floats(0, 0.999), min_size=1, max_size=3),
    st.floats(0, DAY - 1),
)
def test_a_streak_is_the_run_of_days_played_ending_today_or_yesterday(
    days_ago: set[int], times_of_day: list[float], time_now: float
) -> None:
    now = 100 * DAY + time_now
    times = [day_start(now) - ago * DAY + f * DAY for ago in days_ago for f in times_of_day]
    first = 0 if 0 in days_ago else 1
    run = 0
    while first + run in days_ago:
        run += 1
    assert streak(times, now, day_start) == run


@given(st.text(max_size=12))
def test_a_masked_name_keeps_only_its_first_character(name: str) -> None:
    masked = mask(name)
    shown = name.strip() or "匿名"
    assert masked[0] == shown[0]
    assert masked[1:] == "*" * max(1, len(shown) - 1)
