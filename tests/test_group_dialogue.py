"""The group's side written once (dialogue/group.py), as any channel calls it: what a
press does, what a note completes, and the refusals a forged or stale choice gets."""

from __future__ import annotations

from dialogue import callbacks, texts
from dialogue.group import GroupDialogue, Member, NotePromptReply
from reports.records import Report
from tests.world import World


async def filed_case(world: World) -> Report:
    reports = world.runtime.reports
    resident = await reports.residents.resolve("wechat", "oGroupDialogue")
    draft = await reports.drafting.start_draft(resident, "小区门口垃圾成堆没人清理")
    return (await reports.filing.confirm(resident, draft.id)).report


async def member(world: World) -> Member:
    return Member(await world.runtime.reports.staff.resolve("wecom", "zhanggong"), "张工")


def dialogue(world: World) -> GroupDialogue:
    return world.runtime.deps.group_dialogue


async def test_accept_acts_at_once_and_names_the_member(world: World) -> None:
    case = await filed_case(world)
    pressed = await dialogue(world).press(
        await member(world), case, callbacks.report_button("acc", case.id)
    )
    assert pressed.notice == texts.ACT_DONE["accept"]
    [*_, accepted] = await world.runtime.reports.cases.history(case.id)
    assert (accepted.action, accepted.actor_name) == ("accept", "张工")


async def test_resolve_asks_for_a_note_which_then_completes_it(world: World) -> None:
    case = await filed_case(world)
    who = await member(world)
    await dialogue(world).press(who, case, callbacks.report_button("acc", case.id))
    case = await world.runtime.reports.cases.get_report(case.id)
    pressed = await dialogue(world).press(who, case, callbacks.report_button("res", case.id))
    [prompt] = pressed.replies
    assert isinstance(prompt, NotePromptReply) and case.ticket in prompt.text
    stored = await world.runtime.reports.cases.get_prompt(prompt.asks_note)
    assert stored is not None and stored.staff_id == who.staff_id
    [done] = await dialogue(world).note(who, stored, "已清理完毕")
    assert case.ticket in done.text
    resolved = await world.runtime.reports.cases.get_report(case.id)
    assert (resolved.status, resolved.note) == ("resolved", "已清理完毕")


async def test_a_choice_naming_another_case_is_refused(world: World) -> None:
    case = await filed_case(world)
    forged = callbacks.report_button("acc", case.id + 1)
    pressed = await dialogue(world).press(await member(world), case, forged)
    assert (pressed.notice, pressed.alert) == (texts.BUTTON_STALE, True)
    assert (await world.runtime.reports.cases.get_report(case.id)).status == "submitted"


async def test_handing_a_case_to_its_own_group_is_refused(world: World) -> None:
    case = await filed_case(world)
    to_itself = callbacks.report_button("to", case.id, case.group_key)
    pressed = await dialogue(world).press(await member(world), case, to_itself)
    assert (pressed.notice, pressed.alert) == (texts.BUTTON_STALE, True)
