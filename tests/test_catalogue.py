"""The agency catalogue: the default data file, its validation (with line numbers), its idempotent
import on both backends, and the `minsheng agencies` commands."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from minsheng.cli import main
from storage.agencies import ImportReport, import_catalogue
from storage.catalogue import GENERIC_WORDS, Catalogue, load_catalogue
from storage.datafile import DataFileError
from storage.models import (
    ActorKind,
    Agency,
    AgencyContact,
    AgencyRole,
    Complaint,
    ComplaintEvent,
    ContactRole,
    EvaluationKind,
    EventAction,
)
from storage.models import Evaluation as EvaluationRow
from storage.vocabulary import AREAS, Rating
from tests.conftest import DEFAULT_CATALOGUE

# --- helpers ------------------------------------------------------------------------------------


def default_data() -> dict[str, Any]:
    """The default catalogue as plain data, to edit into variants."""
    return yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


def write_catalogue(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def entry(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(item for item in data["agencies"] if item["code"] == code)


def without(data: dict[str, Any], *codes: str) -> dict[str, Any]:
    return {**data, "agencies": [item for item in data["agencies"] if item["code"] not in codes]}


async def import_file(session: AsyncSession, path: Path) -> ImportReport:
    report = await import_catalogue(session, load_catalogue(path))
    await session.commit()
    return report


async def agencies_by_code(session: AsyncSession) -> dict[str, Agency]:
    session.expire_all()
    return {agency.code: agency for agency in (await session.scalars(select(Agency))).all()}


async def assert_no_duplicate_rows(session: AsyncSession) -> None:
    rows = await session.scalar(select(func.count()).select_from(Agency))
    codes = await session.scalar(select(func.count(func.distinct(Agency.code))))
    names = await session.scalar(select(func.count(func.distinct(Agency.name))))
    assert rows == codes == names


def assert_no_change(report: ImportReport) -> None:
    assert (report.added, report.updated, report.removed, report.deactivated) == ([], {}, [], [])


# --- the default catalogue (no database) ----------------------------------------------------------


@pytest.fixture(scope="module")
def default_catalogue() -> Catalogue:
    return load_catalogue(DEFAULT_CATALOGUE)


def test_default_catalogue_validates_with_one_oversight_and_one_default_owner(default_catalogue: Catalogue) -> None:
    assert default_catalogue.region == "示例市"
    assert default_catalogue.by_role(AgencyRole.OVERSIGHT).code == "oversight-office"
    assert default_catalogue.by_role(AgencyRole.DEFAULT_OWNER).code == "service-center"
    assert 50 <= len(default_catalogue.agencies) <= 70


def test_default_catalogue_keeps_the_codes_other_modules_rely_on(default_catalogue: Catalogue) -> None:
    codes = {spec.code: spec for spec in default_catalogue.agencies}
    assert {"oversight-office", "service-center", "public-security", "police-station"} <= codes.keys()
    assert codes["police-station"].parent == "public-security"
    assert codes["vehicle-registry"].parent == "traffic-police"
    assert codes["traffic-police"].parent == "public-security"
    assert codes["real-estate-registry"].parent == "natural-resources"
    assert codes["social-insurance"].parent == "human-resources"


def test_default_catalogue_names_and_aliases_each_point_at_one_agency(default_catalogue: Catalogue) -> None:
    """An alias shared by two agencies (or equal to another's name) would make routing a guess."""
    owners = Counter(word for spec in default_catalogue.agencies for word in {spec.name, *spec.aliases})
    assert [word for word, count in owners.items() if count > 1] == []


def test_default_catalogue_has_no_bare_generic_aliases(default_catalogue: Catalogue) -> None:
    generic = GENERIC_WORDS | {"12345"}
    for spec in default_catalogue.agencies:
        assert len(set(spec.aliases)) == len(spec.aliases), spec.code
        for alias in spec.aliases:
            assert len(alias) >= 2 and alias not in generic, (spec.code, alias)
            assert alias != spec.name, spec.code


def test_default_catalogue_recognises_the_names_citizens_use(default_catalogue: Catalogue) -> None:
    by_word = {word: spec.code for spec in default_catalogue.agencies for word in (spec.name, *spec.aliases)}
    expected = {
        "卫生局": "health-commission",
        "工商局": "market-regulation",
        "质监局": "market-regulation",
        "国税": "taxation",
        "地税": "taxation",
        "税务大厅": "taxation",
        "房管局": "housing-construction",
        "国土局": "natural-resources",
        "劳动局": "human-resources",
        "社保": "social-insurance",
        "医保窗口": "medical-insurance",
        "不动产登记": "real-estate-registry",
        "车管所": "vehicle-registry",
        "派出所": "police-station",
        "户籍窗口": "police-station",
        "运管站": "transport-enforcement",
        "农村信用社": "rural-commercial-bank",
        "政务大厅": "service-center",
    }
    assert {word: by_word.get(word) for word in expected} == expected


def test_default_catalogue_publishes_service_promises(default_catalogue: Catalogue) -> None:
    promises = {spec.code: spec.promised_resolve_days for spec in default_catalogue.agencies}
    assert promises["real-estate-registry"] == 5
    assert promises["housing-fund"] == 3
    assert all(spec.area in AREAS for spec in default_catalogue.agencies)


# --- file validation (no database) ----------------------------------------------------------------

HEAD = """\
region: 示例市
agencies:
  - code: oversight-office
    name: 市效能办
    area: 纪检监察
    role: oversight
  - code: service-center
    name: 市政务服务中心
    area: 党务政务
    role: default_owner
"""  # ten lines: the entry appended below starts on line 11


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ("  - code: housing\n    name: 市住建局\n    area: 城建\n", 13, "unknown area '城建'"),
        (
            "  - code: service-center\n    name: 另一个中心\n    area: 政法\n",
            11,
            "code 'service-center' is already used",
        ),
        ("  - code: housing\n    name: 市效能办\n    area: 城乡建设\n", 12, "name '市效能办' is already used"),
        ("  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    parent: nowhere\n", 14, "parent 'nowhere'"),
        ("  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    parent: housing\n", 14, "cycle"),
        ("  - code: Housing_Bureau\n    name: 市住建局\n    area: 城乡建设\n", 11, "should match pattern"),
        ("  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    name: 又一个\n", 14, "duplicate key 'name'"),
        ("  - code: housing\n    name: [市住建局\n    area: 城乡建设\n", 13, "invalid YAML"),
        (
            "  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    role: oversight\n",
            14,
            "role oversight (has 2)",
        ),
        ("  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    colour: red\n", 14, "Extra inputs"),
        (
            "  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    aliases: [住建局, 市效能办]\n",
            14,
            "alias '市效能办' already names oversight-office",
        ),
        (
            "  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    aliases: [住建局, 局]\n",
            14,
            "'局' is a generic",
        ),
    ],
    ids=[
        "unknown-area",
        "duplicate-code",
        "duplicate-name",
        "unknown-parent",
        "own-parent",
        "bad-code-pattern",
        "duplicate-yaml-key",
        "invalid-yaml",
        "second-oversight",
        "unknown-field",
        "alias-of-another",
        "generic-alias",
    ],
)
def test_bad_catalogue_entry_is_reported_on_its_line(tmp_path: Path, extra: str, line: int, message: str) -> None:
    path = tmp_path / "agencies.yaml"
    path.write_text(HEAD + extra, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_catalogue(path)
    assert len(caught.value.problems) == 1
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (  # another agency's name
            "  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    aliases: [住建局, 市效能办]\n",
            "14: agencies.2.aliases: housing: alias '市效能办' already names oversight-office (市效能办)",
        ),
        (  # another agency's alias
            "  - code: housing\n    name: 市住建局\n    area: 城乡建设\n    aliases: [住建局]\n"
            "  - code: planning\n    name: 市规划局\n    area: 城乡建设\n    aliases: [住建局]\n",
            "18: agencies.3.aliases: planning: alias '住建局' already names housing (市住建局)",
        ),
        (
            "  - code: housing\n    name: 市效能办\n    area: 城乡建设\n",
            "12: agencies.2.name: housing: name '市效能办' is already used by oversight-office",
        ),
        (
            "  - code: service-center\n    name: 另一个中心\n    area: 政法\n",
            "11: agencies.2.code: code 'service-center' is already used by 市政务服务中心",
        ),
    ],
    ids=["alias-is-a-name", "alias-is-an-alias", "duplicate-name", "duplicate-code"],
)
def test_a_clash_between_agencies_names_both_by_code_not_by_position(tmp_path: Path, extra: str, message: str) -> None:
    """An operator reads codes, not list positions: "already names agencies.0" sends them counting."""
    path = tmp_path / "agencies.yaml"
    path.write_text(HEAD + extra, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_catalogue(path)
    assert str(caught.value) == f"{path}:{message}"


def test_parents_that_form_a_loop_are_rejected_on_each_entry_of_the_loop(tmp_path: Path) -> None:
    extra = (
        "  - code: first\n    name: 甲局\n    area: 政法\n    parent: second\n"  # parent on line 14
        "  - code: second\n    name: 乙局\n    area: 政法\n    parent: first\n"  # parent on line 18
    )
    path = tmp_path / "agencies.yaml"
    path.write_text(HEAD + extra, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_catalogue(path)
    assert [problem.split(":")[0] for problem in caught.value.problems] == ["14", "18"]


@pytest.mark.parametrize(("role", "line_of_role"), [("oversight", 6), ("default_owner", 10)])
def test_catalogue_without_a_required_role_names_the_agencies_list(
    tmp_path: Path, role: str, line_of_role: int
) -> None:
    lines = HEAD.splitlines(keepends=True)
    assert lines[line_of_role - 1].strip() == f"role: {role}"
    del lines[line_of_role - 1]
    path = tmp_path / "agencies.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_catalogue(path)
    assert str(caught.value) == f"{path}:2: agencies: the catalogue needs exactly one agency with role {role} (has 0)"


def test_every_problem_in_a_catalogue_is_reported_at_once(tmp_path: Path) -> None:
    extra = (
        "  - code: housing\n    name: 市住建局\n    area: 城建\n"  # area on line 13
        "  - code: service-center\n    name: 另一个中心\n    area: 政法\n"  # code on line 14
    )
    path = tmp_path / "agencies.yaml"
    path.write_text(HEAD + extra, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_catalogue(path)
    assert [problem.split(":")[0] for problem in caught.value.problems] == ["13"]  # field errors stop model checks
    path.write_text(HEAD + extra.replace("城建", "城乡建设"), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_catalogue(path)
    assert [problem.split(":")[0] for problem in caught.value.problems] == ["14"]


def test_missing_catalogue_file_is_a_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read"):
        load_catalogue(tmp_path / "absent.yaml")


# --- import, on both backends ---------------------------------------------------------------------


async def test_default_catalogue_imports_every_agency_with_its_parent(session: AsyncSession) -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    report = await import_file(session, DEFAULT_CATALOGUE)
    assert sorted(report.added) == sorted(spec.code for spec in catalogue.agencies)
    assert (report.updated, report.removed, report.deactivated, report.unchanged) == ({}, [], [], 0)

    agencies = await agencies_by_code(session)
    assert len(agencies) == len(catalogue.agencies)
    for spec in catalogue.agencies:
        agency = agencies[spec.code]
        assert (agency.name, agency.aliases, agency.area, agency.role, agency.active) == (
            spec.name,
            list(spec.aliases),
            spec.area,
            spec.role.value,
            True,
        )
        assert agency.promised_resolve_days == spec.promised_resolve_days
        expected_parent = agencies[spec.parent].id if spec.parent else None
        assert agency.parent_id == expected_parent, spec.code


async def test_importing_the_same_catalogue_twice_changes_nothing(session: AsyncSession) -> None:
    first = await import_file(session, DEFAULT_CATALOGUE)
    before = {code: (a.id, a.updated_at) for code, a in (await agencies_by_code(session)).items()}
    second = await import_file(session, DEFAULT_CATALOGUE)

    assert_no_change(second)
    assert not second.changed
    assert second.unchanged == len(first.added)
    after = {code: (a.id, a.updated_at) for code, a in (await agencies_by_code(session)).items()}
    assert after == before
    await assert_no_duplicate_rows(session)


@pytest.mark.parametrize(
    ("code", "field", "value"),
    [
        ("real-estate-registry", "name", "市不动产登记服务中心"),
        ("social-insurance", "aliases", ["社保中心", "社保"]),
        ("forestry", "area", "国土资源"),
        ("sanitation", "parent", "housing-construction"),
        ("vehicle-registry", "parent", None),
        ("heating", "promised_resolve_days", 3),
        ("statistics", "role", "default_owner"),
    ],
)
async def test_editing_one_agency_updates_exactly_that_agency(
    session: AsyncSession, tmp_path: Path, code: str, field: str, value: Any
) -> None:
    await import_file(session, DEFAULT_CATALOGUE)
    before = await agencies_by_code(session)
    before_ids = {c: a.id for c, a in before.items()}

    data = default_data()
    entry(data, code)[field] = value
    if field == "role":  # exactly one default owner: move the role rather than add a second one
        del entry(data, "service-center")["role"]
    report = await import_file(session, write_catalogue(tmp_path / "edited.yaml", data))

    expected = {code: [field]}
    if field == "role":
        expected["service-center"] = ["role"]
    assert report.updated == expected
    assert (report.added, report.removed, report.deactivated) == ([], [], [])
    assert report.unchanged == len(before) - len(expected)

    after = await agencies_by_code(session)
    assert {c: a.id for c, a in after.items()} == before_ids
    agency = after[code]
    if field == "parent":
        assert agency.parent_id == (after[value].id if value else None)
    elif field == "aliases":
        assert agency.aliases == value
    else:
        assert getattr(agency, field) == value
    assert_no_change(await import_file(session, tmp_path / "edited.yaml"))
    await assert_no_duplicate_rows(session)


async def test_new_agency_in_the_file_is_added_with_its_parent(session: AsyncSession, tmp_path: Path) -> None:
    await import_file(session, DEFAULT_CATALOGUE)
    data = default_data()
    data["agencies"].append(
        {"code": "exit-entry", "name": "市公安局出入境管理支队", "aliases": ["出入境"], "area": "政法"}
        | {"parent": "public-security"}
    )
    report = await import_file(session, write_catalogue(tmp_path / "more.yaml", data))

    assert report.added == ["exit-entry"] and report.updated == {}
    agencies = await agencies_by_code(session)
    assert agencies["exit-entry"].parent_id == agencies["public-security"].id


async def test_agency_dropped_from_the_file_is_deleted_when_nothing_refers_to_it(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_file(session, DEFAULT_CATALOGUE)
    report = await import_file(session, write_catalogue(tmp_path / "less.yaml", without(default_data(), "statistics")))

    assert report.removed == ["statistics"]
    assert (report.added, report.updated, report.deactivated) == ([], {}, [])
    assert "statistics" not in await agencies_by_code(session)


async def test_parent_dropped_together_with_its_children_is_deleted_in_one_import(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_file(session, DEFAULT_CATALOGUE)
    path = write_catalogue(tmp_path / "less.yaml", without(default_data(), "traffic-police", "vehicle-registry"))
    report = await import_file(session, path)

    assert sorted(report.removed) == ["traffic-police", "vehicle-registry"]
    assert report.deactivated == []
    agencies = await agencies_by_code(session)
    assert "traffic-police" not in agencies and "vehicle-registry" not in agencies
    assert_no_change(await import_file(session, path))


async def refer_by_complaint(session: AsyncSession, agency: Agency, _others: dict[str, Agency]) -> None:
    session.add(Complaint(tracking_no="20261122-0001", text="窗口办事拖拉", first_contact_agency_id=agency.id))


async def refer_by_transfer(session: AsyncSession, agency: Agency, others: dict[str, Agency]) -> None:
    owner = others["service-center"]
    session.add(
        Complaint(
            tracking_no="20261122-0002",
            text="转来转去没人管",
            first_contact_agency_id=owner.id,
            owner_agency_id=owner.id,
            transfer_to_agency_id=agency.id,
        )
    )


async def refer_by_event_only(session: AsyncSession, agency: Agency, others: dict[str, Agency]) -> None:
    """A complaint that passed through the agency: only its event history still names it."""
    owner = others["service-center"]
    complaint = Complaint(
        tracking_no="20261122-0003", text="转办多次", first_contact_agency_id=owner.id, owner_agency_id=owner.id
    )
    session.add(complaint)
    await session.flush()
    session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            action=EventAction.TRANSFER_DECLINED,
            actor_kind=ActorKind.CONTACT,
            agency_id=agency.id,
            from_agency_id=agency.id,
            to_agency_id=owner.id,
            reason="不属于本单位职责",
        )
    )


async def refer_by_contact(session: AsyncSession, agency: Agency, _others: dict[str, Agency]) -> None:
    session.add(AgencyContact(telegram_user_id=424242, agency_id=agency.id, role=ContactRole.CLERK))


async def refer_by_evaluation(session: AsyncSession, agency: Agency, _others: dict[str, Agency]) -> None:
    session.add(EvaluationRow(kind=EvaluationKind.AGENCY_EVALUATION, agency_id=agency.id, rating=Rating.SATISFIED))


@pytest.mark.parametrize(
    "refer",
    [refer_by_complaint, refer_by_transfer, refer_by_event_only, refer_by_contact, refer_by_evaluation],
    ids=["complaint", "transfer", "event", "contact", "evaluation"],
)
async def test_agency_dropped_from_the_file_is_only_deactivated_when_something_refers_to_it(
    session: AsyncSession, tmp_path: Path, refer: Any
) -> None:
    await import_file(session, DEFAULT_CATALOGUE)
    agencies = await agencies_by_code(session)
    await refer(session, agencies["statistics"], agencies)
    await session.commit()

    path = write_catalogue(tmp_path / "less.yaml", without(default_data(), "statistics"))
    report = await import_file(session, path)
    assert report.deactivated == ["statistics"]
    assert (report.added, report.updated, report.removed) == ([], {}, [])
    kept = (await agencies_by_code(session))["statistics"]
    assert (kept.name, kept.active) == ("市统计局", False)

    assert_no_change(await import_file(session, path))  # deactivating again is not a change

    back = await import_file(session, DEFAULT_CATALOGUE)  # putting it back revives the same row
    assert back.updated == {"statistics": ["active"]} and back.added == []
    revived = (await agencies_by_code(session))["statistics"]
    assert (revived.id, revived.active) == (kept.id, True)
    await assert_no_duplicate_rows(session)


async def test_parent_of_a_deactivated_child_is_kept_too(session: AsyncSession, tmp_path: Path) -> None:
    await import_file(session, DEFAULT_CATALOGUE)
    agencies = await agencies_by_code(session)
    await refer_by_complaint(session, agencies["vehicle-registry"], agencies)
    await session.commit()

    path = write_catalogue(tmp_path / "less.yaml", without(default_data(), "traffic-police", "vehicle-registry"))
    report = await import_file(session, path)

    assert sorted(report.deactivated) == ["traffic-police", "vehicle-registry"]
    assert report.removed == []
    agencies = await agencies_by_code(session)
    assert agencies["vehicle-registry"].parent_id == agencies["traffic-police"].id


async def test_no_sequence_of_imports_creates_duplicate_rows(session: AsyncSession, tmp_path: Path) -> None:
    data = default_data()
    edited = default_data()
    entry(edited, "police-station")["name"] = "公安派出所"
    entry(edited, "finance")["aliases"] = ["财政局"]
    variants = [
        DEFAULT_CATALOGUE,
        write_catalogue(tmp_path / "edited.yaml", edited),
        write_catalogue(tmp_path / "less.yaml", without(data, "finance", "commerce")),
        DEFAULT_CATALOGUE,
        DEFAULT_CATALOGUE,
    ]
    for path in variants:
        await import_file(session, path)
        await assert_no_duplicate_rows(session)
    agencies = await agencies_by_code(session)
    assert len(agencies) == len(data["agencies"])
    assert all(agency.active for agency in agencies.values())


# --- the command line -----------------------------------------------------------------------------


def test_cli_imports_then_lists_the_catalogue(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    count = len(catalogue.agencies)
    runner = CliRunner()

    first = runner.invoke(main, ["agencies", "import", str(DEFAULT_CATALOGUE)])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[-1] == f"{count} added, 0 updated, 0 removed, 0 deactivated, 0 unchanged"
    assert sum(line.startswith("added ") for line in lines) == count

    again = runner.invoke(main, ["agencies", "import", str(DEFAULT_CATALOGUE)])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [f"0 added, 0 updated, 0 removed, 0 deactivated, {count} unchanged"]

    listed = runner.invoke(main, ["agencies", "list"])
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[0]: line for line in listed.output.splitlines()}
    assert rows.keys() == {spec.code for spec in catalogue.agencies}
    assert "市公安局交通警察支队车辆管理所" in rows["vehicle-registry"]
    assert rows["vehicle-registry"].split()[-1] == "traffic-police"
    assert rows["oversight-office"].endswith("oversight")
    assert rows["service-center"].endswith("default_owner")


def test_cli_reports_an_edit_and_a_removal(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["agencies", "import", str(DEFAULT_CATALOGUE)]).exit_code == 0

    data = without(default_data(), "statistics")
    entry(data, "forestry")["area"] = "国土资源"
    entry(data, "forestry")["name"] = "市林业和草原局"
    result = runner.invoke(main, ["agencies", "import", str(write_catalogue(tmp_path / "edited.yaml", data))])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "updated      forestry: name, area" in lines
    assert "removed      statistics" in lines
    assert lines[-1] == f"0 added, 1 updated, 1 removed, 0 deactivated, {len(data['agencies']) - 1} unchanged"


def test_cli_rejects_a_bad_catalogue_naming_the_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    path = tmp_path / "agencies.yaml"
    path.write_text(HEAD + "  - code: housing\n    name: 市住建局\n    area: 城建\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["agencies", "import", str(path)])

    assert result.exit_code == 1
    assert f"Error: {path}:13: agencies.2.area: unknown area '城建'" in result.output
    listed = CliRunner().invoke(main, ["agencies", "list"])
    assert listed.exit_code == 0 and listed.output == ""
