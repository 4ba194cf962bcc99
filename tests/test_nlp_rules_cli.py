"""`minsheng tag`, `minsheng rules check` and `minsheng rules suggest`, run through click."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minsheng.cli import main
from nlp.mining import Suggestion, mine, render_yaml
from nlp.rulebook import check_file
from storage.catalogue import load_catalogue
from storage.models import Agency

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "storage" / "data" / "agencies.yaml"
AGENCIES = load_catalogue(CATALOGUE).agencies
NIGHT_MARKET = "夜市管理办公室的人态度恶劣"  # an agency only the database knows


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    """A machine with no database yet: the catalogue file is the only one."""
    return CliRunner(env={"MINSHENG_DATABASE_URL": f"sqlite:///{tmp_path / 'absent.db'}"})


async def run(database_url: str, *args: str, input: str | None = None, **env: str) -> Result:
    """The CLI in a thread: it runs its own event loop, as it does from a shell."""
    runner = CliRunner(env={"MINSHENG_DATABASE_URL": database_url, **env})
    return await asyncio.to_thread(runner.invoke, main, list(args), input=input)


async def add_night_market(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """An agency added in the database after the import, as an operator's edit would."""
    async with session_factory() as session:
        session.add(Agency(code="night-market", name="夜市管理办公室", aliases=["夜市办"], area="商贸旅游"))
        await session.commit()


def test_tag_prints_the_choice_and_the_evidence(runner: CliRunner) -> None:
    result = runner.invoke(main, ["tag", "社保局工作人员态度恶劣"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"catalogue: file {CATALOGUE} (no database yet")
    assert "市社会保险事业管理中心 (social-insurance)" in result.output
    assert "脸难看" in result.output
    assert "「态度恶劣」 [7:11]" in result.output


def test_tag_jsonl_answers_every_line_and_reports_malformed_ones(runner: CliRunner) -> None:
    lines = [
        json.dumps({"id": 7, "text": "楼下烧烤店油烟扰民"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": 9}),
        json.dumps({"id": "b", "text": "车管所推诿扯皮"}, ensure_ascii=False),
    ]
    result = runner.invoke(main, ["tag", "--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("id") for o in out] == [7, None, 9, "b"]
    assert out[0]["area"] == "环境保护" and out[0]["agency"] is None
    assert out[1] == {"line": 2, "error": out[1]["error"]} and "malformed" in out[1]["error"]
    assert out[2]["line"] == 3 and "text" in out[2]["error"]
    assert out[3]["agency"] == "vehicle-registry" and out[3]["problem_types"] == ["推诿扯皮"]
    assert {"id", "agency", "agency_name", "area", "problem_types", "confidence", "evidence"} <= set(out[3])
    assert result.stderr.startswith("catalogue: file ")  # stdout stays JSON lines


def test_tag_jsonl_names_the_id_and_line_of_each_invalid_record_and_goes_on(runner: CliRunner) -> None:
    lines = [
        json.dumps({"id": "blank", "text": "  "}),
        json.dumps({"id": 12, "text": 5}),
        json.dumps({"id": None, "text": ["油烟"]}, ensure_ascii=False),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "ok", "text": "车管所推诿扯皮"}, ensure_ascii=False),
    ]
    result = runner.invoke(main, ["tag", "--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o.get("id"), o.get("line")) for o in out] == [("blank", 1), (12, 2), (None, 3), (None, 4), ("ok", None)]
    assert "blank" in out[0]["error"] and "not a string" in out[1]["error"]
    assert "id" in out[2] and "id" not in out[3] and "object" in out[3]["error"]
    assert out[4]["agency"] == "vehicle-registry"


async def test_tag_uses_the_databases_catalogue_and_says_so(
    database_url: str, session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None
) -> None:
    await add_night_market(session_factory)
    result = await run(database_url, "tag", NIGHT_MARKET)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("catalogue: database ")
    assert "active agencies)" in result.output.splitlines()[0]
    assert "单位: 夜市管理办公室 (night-market)" in result.output
    jsonl = await run(database_url, "tag", "--jsonl", input=json.dumps({"id": 1, "text": NIGHT_MARKET}) + "\n")
    assert json.loads(jsonl.stdout)["agency"] == "night-market"
    assert jsonl.stderr.startswith("catalogue: database ")


async def test_tag_on_a_database_without_agencies_uses_the_file_the_service_would_import(database_url: str) -> None:
    result = await run(database_url, "tag", NIGHT_MARKET)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"catalogue: file {CATALOGUE} (the database has no agencies yet")
    assert "单位: 无法确定" in result.output


def test_tag_with_an_unreachable_database_says_it_used_the_file(tmp_path: Path) -> None:
    runner = CliRunner(env={"MINSHENG_DATABASE_URL": "postgresql://minsheng:secret@127.0.0.1:1/minsheng"})
    result = runner.invoke(main, ["tag", "社保局工作人员态度恶劣"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0]
    assert header.startswith(f"catalogue: file {CATALOGUE} (database postgresql+asyncpg://minsheng:***@")
    assert "unreadable" in header and "secret" not in header


def test_tag_on_a_fresh_machine_uses_the_file_and_creates_no_database(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["tag", NIGHT_MARKET])
    assert result.exit_code == 0, result.output
    assert "no database yet" in result.output.splitlines()[0]
    assert not (tmp_path / "absent.db").exists()


def test_tag_needs_text_or_jsonl(runner: CliRunner) -> None:
    assert runner.invoke(main, ["tag"]).exit_code == 2


@pytest.mark.parametrize("blank", ["", "  ", "\u3000\n"])
def test_tag_refuses_blank_text_as_jsonl_does(runner: CliRunner, blank: str) -> None:
    result = runner.invoke(main, ["tag", blank])
    assert result.exit_code == 2 and '"text" is blank' in result.output


def test_rules_check_passes_the_default_rules(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == 3
    assert result.output.startswith("catalogue: file ")


def test_rules_check_takes_a_directory_as_the_service_loads_it(runner: CliRunner, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "nlp" / "rules", rules)
    (rules / "areas.yaml").write_text("areas:\n  城乡建设:\n    物业: 2\n  城建:\n    路: 1\n", encoding="utf-8")
    (rules / "agencies.yaml").unlink()
    (rules / "notes.yaml").write_text("areas: {}\n", encoding="utf-8")
    result = runner.invoke(main, ["rules", "check", str(rules)])
    assert result.exit_code == 1
    assert f"{rules / 'areas.yaml'}:4: areas.城建: unknown area" in result.output
    assert f"{rules / 'agencies.yaml'}:0: cannot read" in result.output
    assert f"{rules / 'problem_types.yaml'}: ok" in result.output
    assert f"{rules / 'notes.yaml'}: not read by the service" in result.output
    assert "2 of 3 rules files have problems" in result.output
    default = runner.invoke(main, ["rules", "check"], env={"MINSHENG_RULES_DIR": str(rules)})
    assert default.exit_code == 1 and f"{rules / 'areas.yaml'}:4: areas.城建: unknown area" in default.output


async def test_rules_check_knows_the_agencies_of_the_databases_catalogue(
    database_url: str, session_factory: async_sessionmaker[AsyncSession], catalogue_loaded: None, tmp_path: Path
) -> None:
    rules = tmp_path / "agencies.yaml"
    rules.write_text("agencies:\n  night-market:\n    keywords: [夜市]\n", encoding="utf-8")
    before = await run(database_url, "rules", "check", str(rules))
    assert before.exit_code == 1 and f"{rules}:2: agencies.night-market: unknown agency code" in before.output
    await add_night_market(session_factory)
    after = await run(database_url, "rules", "check", str(rules))
    assert after.exit_code == 0, after.output
    assert after.output.startswith("catalogue: database ") and f"{rules}: ok" in after.output


def test_rules_check_reports_each_problem_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "problem_types.yaml"
    bad.write_text(
        "negation:\n  cues: [没有]\nproblem_types:\n  脸难看:\n    phrases: [态度恶劣, 没有, 态度恶劣]\n"
        "  吃饭难:\n    phrases: [饭]\n  推诿扯皮:\n    phrases: [态度恶劣]\n"
        "parties:\n  public: [城管]\n  private: [物业, 城管]\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["rules", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:5: problem_types.脸难看.phrases.1: '没有' is also a negation cue" in result.output
    assert f"{bad}:5: problem_types.脸难看.phrases.2: duplicate keyword '态度恶劣'" in result.output
    assert f"{bad}:6: problem_types.吃饭难: unknown problem type" in result.output
    assert f"{bad}:9: problem_types.推诿扯皮.phrases.0: conflicting phrase '态度恶劣', also 脸难看" in result.output
    assert f"{bad}:12: parties.private.1: '城管' is also listed as a public body" in result.output


def test_unknown_agency_code_and_alias_conflict_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "agencies.yaml"
    path.write_text("agencies:\n  no-such-unit:\n    keywords: [报警]\n  education:\n    keywords: [社保局]\n")
    _, problems = check_file(path, AGENCIES)
    assert problems == [
        "2: agencies.no-such-unit: unknown agency code",
        "5: agencies.education.keywords.0: conflicting keyword '社保局', also social-insurance",
    ]


def test_area_keyword_may_count_for_two_areas_but_not_twice_in_one(tmp_path: Path) -> None:
    path = tmp_path / "areas.yaml"
    path.write_text("areas:\n  城乡建设:\n    物业: 2\n  商贸旅游:\n    物业: 0.5\n  城建:\n    路: 1\n")
    _, problems = check_file(path, AGENCIES)
    assert len(problems) == 1 and problems[0].startswith("6: areas.城建: unknown area")
    twice = tmp_path / "twice.yaml"
    twice.write_text("areas:\n  城乡建设:\n    物业: 2\n    小区: 1\n    物业: 1\n")
    assert check_file(twice, AGENCIES)[1] == ["5: invalid YAML: duplicate key '物业' (first on line 3)"]
    zero = tmp_path / "zero.yaml"
    zero.write_text("areas:\n  城乡建设:\n    物业: 0\n")
    assert check_file(zero, AGENCIES)[1] == ["3: areas.城乡建设.物业: weight must be positive"]


def test_bad_syntax_and_bad_structure_are_reported_with_lines(tmp_path: Path) -> None:
    broken = tmp_path / "areas.yaml"
    broken.write_text("areas:\n  城乡建设: [物业\n")
    assert check_file(broken, AGENCIES)[1][0].startswith("3: invalid YAML")
    wrong = tmp_path / "agencies.yaml"
    wrong.write_text("agencies:\n  education:\n    keyword: [学校]\n")
    assert check_file(wrong, AGENCIES)[1][0].startswith("3: agencies.education.keyword: Extra inputs")


def test_mining_prefers_words_frequent_in_one_label_and_rare_elsewhere() -> None:
    documents = [({"物业", "小区"}, "城乡建设")] * 6 + [({"噪音", "小区"}, "环境保护")] * 6
    suggestions = mine(documents, min_count=3)
    assert [s.word for s in suggestions["城乡建设"]] == ["物业"]
    assert [s.word for s in suggestions["环境保护"]] == ["噪音"]
    assert suggestions["城乡建设"][0] == Suggestion("物业", suggestions["城乡建设"][0].weight, 6, 0)
    assert suggestions["城乡建设"][0].weight > 2
    assert "物业: " in render_yaml(suggestions)


def test_rules_suggest_prints_reviewable_yaml_with_counts(runner: CliRunner, tmp_path: Path) -> None:
    csv = tmp_path / "labelled.csv"
    rows = ["text,label"] + ["小区物业乱停车,城乡建设"] * 6 + ["工厂噪音扰民,环境保护"] * 6
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["rules", "suggest", "--labelled", str(csv), "--min-count", "3"])
    assert result.exit_code == 0, result.output
    assert "  城乡建设:  # mined (6 messages)" in result.output
    assert "物业: " in result.output and "# in 6, elsewhere 0" in result.output


def test_learned_weights_pick_the_labels_and_drop_words_that_do_not_help() -> None:
    from nlp.mining import Sample, area_scores, learn_weights

    samples = (
        [Sample({"小区": 1, "物业": 1, "今天": 1}, "城乡建设")] * 20
        + [Sample({"小区": 1, "噪音": 1, "今天": 1}, "环境保护")] * 20
        + [Sample({"工厂": 1, "噪音": 2, "今天": 1}, "环境保护")] * 10
        + [Sample({"小区": 1, "今天": 1}, "城乡建设")] * 10
    )
    learned = learn_weights(samples, min_count=3, l1=1e-3, floor=0.05)
    assert "今天" not in learned["城乡建设"] and "今天" not in learned["环境保护"]  # everywhere: says nothing
    assert learned["城乡建设"]["物业"] > 1 and learned["环境保护"]["噪音"] > 1
    assert "物业" not in learned["环境保护"] and "噪音" not in learned["城乡建设"]
    assert learned["城乡建设"].get("小区", 0) > learned["环境保护"].get("小区", 0)
    for counts, label in [
        ({"小区": 1, "噪音": 1}, "环境保护"),
        ({"小区": 1, "物业": 1}, "城乡建设"),
        ({"小区": 1}, "城乡建设"),
    ]:
        scores = area_scores(counts, learned)
        assert max(scores, key=scores.__getitem__) == label
    assert learn_weights(samples, min_count=3, l1=1e-3, floor=0.05) == learned  # deterministic
    pruned = learn_weights(samples, min_count=3, l1=1e-3)  # by default weights under 0.5 are dropped
    assert min(weight for keywords in pruned.values() for weight in keywords.values()) >= 0.5


def test_learning_lets_hand_set_areas_and_agencies_compete_unchanged() -> None:
    from nlp.mining import Sample, learn_weights

    fixed = {"民政": {"养老院": 2.0}}
    samples = [Sample({"养老院": 1, "收费": 1}, "商贸旅游")] * 20 + [Sample({"学校": 1}, "教育文体")] * 20
    learned = learn_weights(samples, fixed=fixed, min_count=3, l1=1e-3)
    assert set(learned) == {"商贸旅游", "教育文体"}
    assert learned["商贸旅游"]["收费"] + learned["商贸旅游"].get("养老院", 0) > 2.0  # beats the hand-set area
    rare = [*samples, Sample({"校车": 1, "学校": 1}, "教育文体"), Sample({"校车": 1}, "教育文体")]
    assert "校车" not in learn_weights(rare, min_count=3, l1=1e-3)["教育文体"]  # in 2 messages: too rare
    assert learn_weights(rare, seeds={"教育文体": ["校车"]}, min_count=3, l1=1e-3)["教育文体"]["校车"] > 0


def test_noise_words_are_not_candidates() -> None:
    from nlp.mining import candidate_words

    assert candidate_words(["三年", "两个", "十一点", "A3区", "的", "您好", "物业", "一楼"]) == {"物业", "一楼"}
