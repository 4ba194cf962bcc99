"""Invite codes, binding and revoking (workflow.invites) and the `minsheng contacts` commands."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minsheng.cli import main
from storage.models import AgencyContact, InviteCode
from tests.factories import agency, make_clock, make_complaint, make_deadlines
from tests.test_agency_bot_support import HANS, open_office
from workflow.clock import SystemClock
from workflow.errors import DomainError
from workflow.invites import (
    ALPHABET,
    CODE_LENGTH,
    bind,
    create_invite,
    pending_invites,
    require_contact,
    revoke,
    revoke_invite,
)

pytestmark = pytest.mark.usefixtures("catalogue_loaded")
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_an_invite_code_is_eight_unambiguous_characters_valid_seven_days(session: AsyncSession) -> None:
    clock = make_clock()
    code = await create_invite(session, clock, "public-security", "clerk")
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
    assert not set(code) & set("0O1I")
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == code))
    assert invite is not None and invite.expires_at - clock.now() == timedelta(days=7)


async def test_binding_makes_the_user_a_contact_of_the_invites_agency_and_role(session: AsyncSession) -> None:
    clock = make_clock()
    code = await create_invite(session, clock, "public-security", "lead")
    contact = await bind(session, clock, f" {code.lower()[:4]}-{code.lower()[4:]} ", 555, "王所长")
    assert contact.agency_id == (await agency(session, "public-security")).id
    assert (contact.role, contact.display_name, contact.active) == ("lead", "王所长", True)
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == code))
    assert invite is not None and invite.used_at == clock.now() and invite.used_by_contact_id == contact.id


@pytest.mark.parametrize(
    ("case", "code"),
    [("unknown", "invite_unknown"), ("used", "invite_used"), ("expired", "invite_expired")],
)
async def test_unknown_used_and_expired_codes_are_refused(session: AsyncSession, case: str, code: str) -> None:
    clock = make_clock()
    invite = await create_invite(session, clock, "education", "clerk", valid_days=1)
    if case == "unknown":
        invite = "ABCDEFGH" if invite != "ABCDEFGH" else "HGFEDCBA"
    elif case == "used":
        await bind(session, clock, invite, 1, "first")
    else:
        clock.advance(timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        await bind(session, clock, invite, 2, "second")
    assert refused.value.code == code
    assert await session.scalar(select(AgencyContact).where(AgencyContact.telegram_user_id == 2)) is None


async def test_a_revoked_invite_is_refused_as_an_expired_one_and_no_longer_pending(session: AsyncSession) -> None:
    clock = make_clock()
    code = await create_invite(session, clock, "education", "clerk")
    kept = await create_invite(session, clock, "education", "lead")
    clock.advance(timedelta(hours=1))
    invite, agency_code = await revoke_invite(session, clock, f" {code.lower()} ")
    assert (invite.code, invite.revoked_at, agency_code) == (code, clock.now(), "education")
    assert [invite.code for invite, _ in await pending_invites(session, clock)] == [kept]
    with pytest.raises(DomainError) as refused:
        await bind(session, clock, code, 2, "second")
    assert refused.value.code == "invite_expired"
    assert await session.scalar(select(AgencyContact).where(AgencyContact.telegram_user_id == 2)) is None
    clock.advance(timedelta(hours=1))
    again, _ = await revoke_invite(session, clock, code)  # idempotent: the first revocation's time stays
    assert again.revoked_at == clock.now() - timedelta(hours=1)


@pytest.mark.parametrize(("case", "code"), [("unknown", "invite_unknown"), ("used", "invite_used")])
async def test_an_unknown_or_used_invite_cannot_be_revoked(session: AsyncSession, case: str, code: str) -> None:
    clock = make_clock()
    invite = await create_invite(session, clock, "education", "clerk")
    if case == "used":
        await bind(session, clock, invite, 1, "first")
    with pytest.raises(DomainError) as refused:
        await revoke_invite(session, clock, invite if case == "used" else "ZZZZ2222")
    assert refused.value.code == code
    if case == "used":  # the contact it made is what to revoke
        contact = await session.scalar(select(AgencyContact).where(AgencyContact.telegram_user_id == 1))
        assert contact is not None and refused.value.params == {"contact_id": contact.id}


async def test_a_revoked_invite_gets_the_expired_refusal_in_the_bot(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with open_office(session_factory) as office:
        code = await office.invite("education", "clerk")
        async with office.session_factory() as session:
            await revoke_invite(session, office.clock, code)
            await session.commit()
        newcomer = office.harness.user(name="周新人")
        await newcomer.send(f"/bind {code}")
        assert (await newcomer.wait_for_reply()).text == HANS.plain("error.invite_expired")


async def test_an_active_contact_cannot_bind_again_but_a_revoked_one_can(session: AsyncSession) -> None:
    clock = make_clock()
    first = await bind(session, clock, await create_invite(session, clock, "education", "clerk"), 7, "周")
    second_code = await create_invite(session, clock, "public-security", "lead")
    with pytest.raises(DomainError) as refused:
        await bind(session, clock, second_code, 7, "周")
    assert refused.value.code == "already_bound"
    await revoke(session, clock, first)
    with pytest.raises(DomainError) as revoked:
        await require_contact(session, 7)
    assert revoked.value.code == "contact_revoked"
    again = await bind(session, clock, second_code, 7, "周")
    assert again.id == first.id and again.active and again.role == "lead" and again.revoked_at is None
    assert (await require_contact(session, 7)).agency_id == (await agency(session, "public-security")).id


async def test_an_unknown_user_is_not_a_contact(session: AsyncSession) -> None:
    with pytest.raises(DomainError) as refused:
        await require_contact(session, 424242)
    assert refused.value.code == "not_a_contact"


@pytest.mark.parametrize(("agency_code", "role"), [("no-such-agency", "clerk"), ("education", "boss")])
async def test_an_invite_needs_a_known_agency_and_role(session: AsyncSession, agency_code: str, role: str) -> None:
    with pytest.raises(DomainError):
        await create_invite(session, make_clock(), agency_code, role)


def test_the_contacts_commands_invite_list_and_revoke(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    runner = CliRunner()
    invited = runner.invoke(main, ["contacts", "invite", "--agency", "public-security", "--role", "clerk"])
    assert invited.exit_code == 0, invited.output
    code = invited.stdout.strip().splitlines()[0]
    assert len(code) == CODE_LENGTH
    listed = runner.invoke(main, ["contacts", "list", "--invites"])
    assert listed.exit_code == 0 and code in listed.output and "public-security" in listed.output

    refused = runner.invoke(main, ["contacts", "invite", "--agency", "nowhere", "--role", "clerk"])
    assert refused.exit_code != 0
    assert "no agency with code 'nowhere'; see `minsheng agencies list`" in refused.output
    assert runner.invoke(main, ["contacts", "revoke", "999999"]).exit_code != 0


async def test_the_revoke_command_revokes_by_telegram_id(
    session: AsyncSession, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = make_clock()
    await bind(session, clock, await create_invite(session, clock, "education", "clerk"), 8080, "郑")
    await session.commit()
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    runner = CliRunner()
    result = await _invoke(runner, ["contacts", "revoke", "8080"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    contact = await session.scalar(select(AgencyContact).where(AgencyContact.telegram_user_id == 8080))
    assert contact is not None and not contact.active and contact.revoked_at is not None
    listed = await _invoke(runner, ["contacts", "list"])
    assert "revoked" in listed.output and "郑" in listed.output


async def test_the_revoke_invite_command_stops_an_unused_code(
    session: AsyncSession, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = make_clock()
    code = await create_invite(session, clock, "education", "clerk")
    used = await create_invite(session, clock, "education", "lead")
    await bind(session, clock, used, 9090, "钱")
    await session.commit()
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    runner = CliRunner()
    result = await _invoke(runner, ["contacts", "revoke-invite", code])
    assert result.exit_code == 0, result.output
    assert f"revoked invite {code} (education, clerk)" in result.output
    session.expire_all()
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == code))
    assert invite is not None and invite.revoked_at is not None
    assert code not in (await _invoke(runner, ["contacts", "list", "--invites"])).output
    again = await _invoke(runner, ["contacts", "revoke-invite", code])
    assert again.exit_code == 0 and "already revoked" in again.output
    assert f"{invite.revoked_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in again.output
    refused = await _invoke(runner, ["contacts", "revoke-invite", used])
    assert refused.exit_code == 1 and "invite_used" in refused.output and "contacts revoke" in refused.output
    assert (await _invoke(runner, ["contacts", "revoke-invite", "ZZZZ2222"])).exit_code == 1


async def test_the_list_command_has_a_header_and_prints_local_times(
    session: AsyncSession, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's zone is Asia/Shanghai: an operator reads its times, never UTC."""
    code = await create_invite(session, SystemClock(), "education", "clerk")
    await bind(session, make_clock(), await create_invite(session, SystemClock(), "education", "lead"), 7070, "冯")
    await revoke(session, make_clock(), await require_contact(session, 7070))
    await session.commit()
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == code))
    assert invite is not None
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    listed = await _invoke(CliRunner(), ["contacts", "list", "--invites"])
    assert listed.exit_code == 0, listed.output
    header = listed.output.splitlines()[0].split()
    assert header[:4] == ["ID", "TELEGRAM", "AGENCY", "ROLE"]
    assert "UTC" not in listed.output
    assert f"expires {invite.expires_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in listed.output
    assert f"revoked {make_clock().now().astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in listed.output


async def test_revoking_an_agencys_last_contact_warns_of_its_open_complaints(
    session: AsyncSession, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = make_clock()
    await bind(session, clock, await create_invite(session, clock, "education", "clerk"), 6060, "褚")
    await bind(session, clock, await create_invite(session, clock, "education", "lead"), 6061, "卫")
    for _ in range(2):
        await make_complaint(session, clock, make_deadlines(), agency_code="education")
    await session.commit()
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    runner = CliRunner()
    first = await _invoke(runner, ["contacts", "revoke", "6060"])
    assert first.exit_code == 0 and "warning" not in first.output
    last = await _invoke(runner, ["contacts", "revoke", "6061"])
    assert last.exit_code == 0, last.output
    assert "warning: education has no active contact left" in last.output and "2 open complaints" in last.output


async def _invoke(runner: CliRunner, args: list[str]) -> Result:
    """The CLI runs its own event loop: call it from a worker thread while this test's loop waits."""
    return await asyncio.to_thread(runner.invoke, main, args)
