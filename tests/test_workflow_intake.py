"""Intake: numbering, routing to the confirmed agency or the default owner (兜底), clocks, notices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import ComplaintProblem, ComplaintStatus, ComplaintTimer, EventAction, OutboxMessage
from tests.factories import FakeEvidence, FakeTagging, World, events_of, make_contact
from workflow.citizens import get_or_create_citizen
from workflow.errors import DomainError
from workflow.intake import AttachmentIn, register_complaint

TEXT = "派出所办户口跑了好几趟，窗口态度恶劣"


async def test_complaint_goes_to_the_confirmed_agency_as_first_contact_owner(world: World) -> None:
    complaint = await world.complaint(agency_code="public-security")
    police_id = await world.agency_id("public-security")
    assert complaint.status == ComplaintStatus.ASSIGNED
    assert complaint.first_contact_agency_id == complaint.owner_agency_id == police_id
    assert complaint.tracking_no == "20261123-0001"
    now = world.clock.now()
    assert complaint.acknowledge_due_at == world.deadlines.acknowledge_due(
        now, priority="normal", problem_types=["事难办"]
    )
    assert complaint.resolve_due_at == world.deadlines.resolve_due(now, priority="normal", problem_types=["事难办"])


@pytest.mark.parametrize("code", [None, "no-such-agency"])
async def test_complaint_without_a_known_agency_goes_to_the_default_owner(world: World, code: str | None) -> None:
    complaint = await world.complaint(agency_code=code)
    assert complaint.owner_agency_id == await world.agency_id("service-center")
    assigned = (await events_of(world.session, complaint.id))[-1]
    assert (assigned.action, assigned.reason, assigned.data["default_owner"]) == (EventAction.ASSIGNED, "兜底", True)


async def test_intake_writes_registered_then_assigned_events(world: World) -> None:
    complaint = await world.complaint()
    events = await events_of(world.session, complaint.id)
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        (EventAction.REGISTERED, None, ComplaintStatus.REGISTERED),
        (EventAction.ASSIGNED, ComplaintStatus.REGISTERED, ComplaintStatus.ASSIGNED),
    ]
    assert events[0].actor_kind == "citizen" and events[1].to_agency_id == complaint.owner_agency_id


async def test_problem_rows_keep_their_evidence_and_unknown_types_are_dropped(world: World) -> None:
    tagging = FakeTagging(
        normalized_text=TEXT,
        area="政法",
        problem_types=("事难办", "脸难看", "不是类型"),
        evidence=(
            FakeEvidence("problem_type", "事难办", "跑了好几趟", 6, 11),
            FakeEvidence("problem_type", "脸难看", "态度恶劣", 15, 19),
            FakeEvidence("agency", "public-security", "派出所", 0, 3),
        ),
    )
    complaint = await register_complaint(
        world.session,
        world.clock,
        world.deadlines,
        citizen=world.citizen,
        text=TEXT,
        tagging=tagging,
        agency_code="police-station",
        attachments=[AttachmentIn(kind="photo", telegram_file_id="file-1")],
    )
    rows = list(
        await world.session.scalars(
            select(ComplaintProblem).where(ComplaintProblem.complaint_id == complaint.id).order_by(ComplaintProblem.id)
        )
    )
    assert [(r.problem_type, [e["word"] for e in r.evidence]) for r in rows] == [
        ("事难办", ["跑了好几趟"]),
        ("脸难看", ["态度恶劣"]),
    ]
    assert complaint.area == "政法" and complaint.tagging["confidence"] == 0.9
    assert complaint.text == TEXT


async def test_receipt_goes_to_the_citizen_and_the_agency_contacts_hear_of_it(world: World) -> None:
    second, _ = await make_contact(world.session, "public-security")
    complaint = await world.complaint()
    messages = list(
        await world.session.scalars(select(OutboxMessage).where(OutboxMessage.complaint_id == complaint.id))
    )
    by_kind = {(m.chat_id, m.kind) for m in messages}
    assert (world.citizen.telegram_user_id, "complaint.receipt") in by_kind
    assert (second.telegram_user_id, "agency.new_complaint") in by_kind
    assert sum(m.kind == "agency.new_complaint" for m in messages) == 2
    receipt = next(m for m in messages if m.kind == "complaint.receipt")
    assert receipt.payload["params"]["tracking_no"] == complaint.tracking_no


async def test_agency_notice_of_an_anonymous_complaint_carries_no_identity(world: World) -> None:
    complaint = await world.complaint(anonymous=True, contact_phone="13800138000")
    notice = await world.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint.id, OutboxMessage.kind == "agency.new_complaint"
        )
    )
    flat = repr(notice.payload)
    assert notice.payload["params"]["anonymous"] is True
    assert "13800138000" not in flat and "张三" not in flat
    assert not any("citizen" in key or "phone" in key for key in notice.payload["params"])


async def test_intake_schedules_the_acknowledge_timers(world: World) -> None:
    complaint = await world.complaint()
    kinds = set(
        await world.session.scalars(select(ComplaintTimer.kind).where(ComplaintTimer.complaint_id == complaint.id))
    )
    assert {"ack_overdue", "ack_escalate"} <= kinds


async def test_empty_text_and_unknown_priority_are_refused(world: World) -> None:
    for kwargs, code in (({"text": "   "}, "text_required"), ({"priority": "asap"}, "bad_value")):
        with pytest.raises(DomainError) as caught:
            await world.complaint(**kwargs)
        assert caught.value.code == code


async def test_web_intake_without_a_citizen_is_registered_by_the_system(world: World) -> None:
    complaint = await world.complaint(citizen=None, channel="web")
    events = await events_of(world.session, complaint.id)
    assert events[0].actor_kind == "system" and complaint.citizen_id is None


async def test_get_or_create_citizen_returns_the_same_row_each_time(world: World) -> None:
    first = await get_or_create_citizen(world.session, 555_001, display_name="李四")
    again = await get_or_create_citizen(world.session, 555_001, language="zh-Hant")
    assert first.id == again.id and again.language == "zh-Hant" and again.display_name == "李四"
