"""`minsheng tag`, `minsheng rules check` and `minsheng rules suggest`, run through click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from minsheng.cli import main
from nlp.mining import Suggestion, mine, render_yaml
from nlp.rulebook import check_file
from storage.catalogue import load_catalogue

REPO = Path(__file__).resolve().parent.parent
AGENCIES = load_catalogue(REPO / "storage" / "data" / "agencies.yaml").agencies


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_tag_prints_the_choice_and_the_evidence(runner: CliRunner) -> None:
    result = runner.invoke(main, ["tag", "社保局工作人员态度恶劣"])
    assert result.exit_code == 0, result.output
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
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o.get("id") for o in out] == [7, None, None, "b"]
    assert out[0]["area"] == "环境保护" and out[0]["agency"] is None
    assert out[1]["line"] == 2 and "malformed" in out[1]["error"]
    assert out[2]["line"] == 3
    assert out[3]["agency"] == "vehicle-registry" and out[3]["problem_types"] == ["推诿扯皮"]
    assert {"id", "agency", "agency_name", "area", "problem_types", "confidence", "evidence"} <= set(out[3])


def test_tag_needs_text_or_jsonl(runner: CliRunner) -> None:
    assert runner.invoke(main, ["tag"]).exit_code == 2


def test_rules_check_passes_the_default_rules(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == 3


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


def test_area_keyword_in_two_areas_and_unknown_area_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "areas.yaml"
    path.write_text("areas:\n  城乡建设:\n    物业: 2\n  环境保护:\n    物业: 1\n  城建:\n    路: 1\n")
    _, problems = check_file(path, AGENCIES)
    assert problems[0] == "5: areas.环境保护.物业: conflicting keyword, also listed under 城乡建设"
    assert problems[1].startswith("6: areas.城建: unknown area")


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


def test_weight_tuning_moves_weights_towards_the_labels_and_keeps_frozen_ones() -> None:
    from nlp.mining import Sample, area_score, tune_weights

    areas = {"城乡建设": {"小区": 2.0, "物业": 1.0}, "环境保护": {"噪音": 1.0, "污染": 1.5}}
    samples = [Sample({"小区": 1, "噪音": 1}, "环境保护")] * 4 + [Sample({"小区": 1, "物业": 1}, "城乡建设")] * 4
    tuned = tune_weights(samples, areas, epochs=5, rate=0.5, frozen=frozenset({"污染"}))
    owner = {w: (a, wt) for a, kws in tuned.items() for w, wt in kws.items()}
    scores = area_score({"小区": 1, "噪音": 1}, owner)
    assert max(scores, key=scores.__getitem__) == "环境保护"
    assert tuned["环境保护"]["噪音"] > 1.0 and tuned["城乡建设"]["小区"] < 2.0
    assert tuned["环境保护"]["污染"] == 1.5
