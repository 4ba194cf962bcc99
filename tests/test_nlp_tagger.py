"""The rule tagger on the default rules and catalogue: agency, area, problem types, evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from nlp.rulebook import AreasFile
from nlp.tagger import Tagger, TagResult
from storage.catalogue import load_catalogue

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "data" / "nlp_problem_types.yaml"
AGENCIES = load_catalogue(REPO / "storage" / "data" / "agencies.yaml").agencies


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    catalogue = load_catalogue(REPO / "storage" / "data" / "agencies.yaml")
    return Tagger.load(REPO / "nlp" / "rules", catalogue.agencies)


def words(result: TagResult, kind: str) -> list[str]:
    return [e.word for e in result.evidence if e.kind == kind]


def test_named_agency_is_chosen_with_confidence_and_its_area(tagger: Tagger) -> None:
    result = tagger.tag("我去市不动产登记中心办房产证，等了一上午")
    assert result.agency == "real-estate-registry"
    assert result.agency_name == "市不动产登记中心"
    assert not result.low_confidence
    assert result.confidence >= 0.6
    assert result.area == "城乡建设"


def test_evidence_offsets_point_at_the_words_as_written(tagger: Tagger) -> None:
    text = "縣國土資源局工作人員態度惡劣，愛理不理"
    result = tagger.tag(text)
    assert result.script == "zh-Hant"
    assert result.agency == "natural-resources"
    assert result.problem_types == ("脸难看",)
    for evidence in result.evidence:
        assert text[evidence.start : evidence.end] == evidence.word
    assert "國土資源局" in words(result, "agency")
    assert "態度惡劣" in words(result, "problem_type")


def test_pinyin_glosses_do_not_hide_an_agency_and_evidence_keeps_them(tagger: Tagger) -> None:
    result = tagger.tag("到建設(shè)局反映問題")
    assert result.agency == "housing-construction"
    assert words(result, "agency") == ["建設(shè)局"]


def test_rule_words_stay_whole_in_the_tokenizer(tagger: Tagger) -> None:
    tokens = [word for word, _, _ in tagger.tokens("不动产登记中心推诿扯皮还吃拿卡要")]
    assert tokens == ["不动产登记中心", "推诿扯皮", "还", "吃拿卡要"]


def test_a_loose_keyword_alone_is_reported_as_low_confidence(tagger: Tagger) -> None:
    result = tagger.tag("孩子的班主任经常体罚学生")
    assert result.agency is None
    assert result.low_confidence
    assert result.candidates and result.candidates[0].code == "public-schools"
    assert result.area == "教育文体"


def test_two_agencies_named_equally_is_low_confidence(tagger: Tagger) -> None:
    result = tagger.tag("人社局让我去医保局，医保局又让我回人社局")
    assert result.low_confidence
    assert {c.code for c in result.candidates[:2]} == {"human-resources", "medical-insurance"}


def test_a_unit_and_its_parent_do_not_compete(tagger: Tagger) -> None:
    result = tagger.tag("公安局下属的派出所民警不出警")
    assert result.agency == "police-station"


def test_text_with_nothing_to_go_on_has_no_agency_area_or_type(tagger: Tagger) -> None:
    result = tagger.tag("你好")
    assert (result.agency, result.area, result.problem_types, result.candidates) == (None, None, (), ())
    assert result.low_confidence and result.confidence == 0.0


def test_area_is_found_without_an_agency(tagger: Tagger) -> None:
    assert tagger.tag("楼下烧烤店油烟和噪音严重扰民").area == "环境保护"
    assert tagger.tag("公司拖欠工资半年，劳动合同也没签").area == "劳动和社会保障"


def test_a_word_listed_under_two_areas_counts_for_both(tagger: Tagger) -> None:
    areas = AreasFile(areas={"城乡建设": {"垃圾": 2.0, "小区": 1.0}, "环境保护": {"垃圾": 1.0, "焚烧": 3.0}})
    custom = Tagger(replace(tagger.rules, areas=areas), AGENCIES, tagger.segmenter)
    result = custom.tag("小区垃圾没人清理")  # 城乡建设 2 + 1, 环境保护 1
    assert result.area == "城乡建设" and words(result, "area") == ["小区", "垃圾"]
    result = custom.tag("工厂焚烧垃圾")  # 环境保护 3 + 1, 城乡建设 2
    assert result.area == "环境保护" and words(result, "area") == ["焚烧", "垃圾"]


def test_an_area_score_is_the_plain_sum_of_its_keyword_weights(tagger: Tagger) -> None:
    areas = AreasFile(areas={"城乡建设": {"物业": 1.5}, "环境保护": {"噪音": 2.0}})
    custom = Tagger(replace(tagger.rules, areas=areas), AGENCIES, tagger.segmenter)
    assert custom.tag("物业，噪音").area == "环境保护"  # 2 against 1.5 (a weight counts once, not squared)
    assert custom.tag("物业，物业，噪音").area == "城乡建设"  # 1.5 × (1 + ln 2) ≈ 2.54 against 2


def test_a_cold_window_and_a_month_with_nobody_coming_are_the_domains_words(tagger: Tagger) -> None:
    """DOMAIN.md: "cold" is 脸难看, "没人管" is 不作为; both as a citizen wrote them in the sandbox."""
    result = tagger.tag("窗口工作人员态度冷淡，一个月了没人来管")
    assert set(result.problem_types) == {"脸难看", "不作为"}


@pytest.mark.parametrize(
    "text",
    ["工作人员态度很好", "办理过程中没有乱收费", "该单位并非推诿", "民警态度并不差", "他们并没有拖延"],
)
def test_negated_or_praising_text_gets_no_problem_type(tagger: Tagger, text: str) -> None:
    assert tagger.tag(text).problem_types == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("小区物业乱收费", ()),
        ("開發商一拖再拖，至今不交房", ()),
        ("物业乱收费，向住建局反映多次无果，住建局不闻不问", ("不作为",)),
        ("物业乱收费。街道办也乱收费", ("乱收费",)),
        ("物业说归城管管，城管又推诿", ("推诿扯皮",)),
        # A public body named right after a private one is a party of its own.
        ("物业和城管都视而不见", ("不作为",)),
        # 保护伞 names the official who shields the private party named before it.
        ("店老板早就打点好了，执法部门成了夜宵店的保护伞", ("执法不公",)),
    ],
)
def test_conduct_words_about_a_private_party_are_not_a_problem_type(
    tagger: Tagger, text: str, expected: tuple[str, ...]
) -> None:
    """The party last named before a match in its sentence decides: 物业 and 开发商 are not public bodies."""
    assert tagger.tag(text).problem_types == expected


def test_shielding_words_must_be_rule_words(tmp_path: Path) -> None:
    from nlp.rulebook import check_file

    bad = tmp_path / "problem_types.yaml"
    bad.write_text(
        "negation:\n  cues: [没有]\nparties:\n  private: [物业]\n  shielding: [包庇, 保护伞, 包庇]\n"
        "problem_types:\n  执法不公:\n    phrases: [包庇]\n",
        encoding="utf-8",
    )
    _, problems = check_file(bad, [])
    assert "5: parties.shielding.1: '保护伞' is not a phrase or co-occurrence word of any type" in problems
    assert "5: parties.shielding.2: duplicate keyword '包庇'" in problems


def test_attitude_with_a_bad_word_nearby_is_a_bad_attitude(tagger: Tagger) -> None:
    result = tagger.tag("那个窗口的态度真是极其恶劣")
    assert result.problem_types == ("脸难看",)
    assert words(result, "problem_type") == ["态度", "恶劣"]


def test_co_occurrence_does_not_reach_across_a_clause(tagger: Tagger) -> None:
    assert tagger.tag("服务态度还行。路况很差").problem_types == ()


def test_personal_data_is_reported_with_the_result(tagger: Tagger) -> None:
    result = tagger.tag("城管占道，联系电话13812345678")
    assert [(p.kind, p.start, p.end) for p in result.personal_data] == [("mobile", 9, 20)]


def test_result_is_json_ready(tagger: Tagger) -> None:
    data = json.loads(json.dumps(tagger.tag("社保局办事拖拉").to_dict(), ensure_ascii=False))
    assert data["agency"] == "social-insurance"
    assert data["problem_types"] == ["慢作为"]
    assert data["evidence"][0] == {
        "kind": "agency",
        "value": "social-insurance",
        "word": "社保局",
        "start": 0,
        "end": 3,
    }


def test_hand_labelled_problem_types_reach_the_micro_f1_target(tagger: Tagger) -> None:
    messages = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))["messages"]
    assert len(messages) >= 60
    tp = fp = fn = 0
    for message in messages:
        got, want = set(tagger.tag(message["text"]).problem_types), set(message["types"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        if not want:
            assert not got, message["text"]
    assert 2 * tp / (2 * tp + fp + fn) >= 0.85


def test_to_dict_has_every_field_of_the_result(tagger: Tagger) -> None:
    from dataclasses import asdict

    result = tagger.tag("派出所民警态度恶劣，电话13812345678")
    assert result.to_dict() == json.loads(json.dumps(asdict(result)))
