"""The message catalogue and the safe splitting of long replies."""

from __future__ import annotations

import html
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.agency_cards import local_time
from handlers.errors import error_text
from handlers.long_text import split_html, utf16_length
from handlers.notices import render_notice
from handlers.texts import TEXTS_DIR, Texts, default_texts, load_catalogue, placeholders
from storage.datafile import DataFileError
from workflow.errors import CODES, DomainError


@pytest.fixture
def texts_dir(tmp_path: Path) -> Path:
    """A copy of the shipped catalogue to break."""
    target = tmp_path / "texts"
    shutil.copytree(TEXTS_DIR, target)
    return target


def test_every_domain_error_code_has_its_own_text_in_both_scripts() -> None:
    for lang in ("zh-Hans", "zh-Hant"):
        tr = default_texts()(lang)
        for code in CODES:
            assert error_text(DomainError(code), tr) != tr("error.unknown"), code
    assert error_text(RuntimeError("boom"), default_texts()("zh-Hans")) == default_texts()("zh-Hans")("error.unknown")


def test_traditional_is_converted_from_simplified_with_the_overrides_applied() -> None:
    hant = default_texts()("zh-Hant")
    assert "投訴" in hant("welcome", name="x") and "窗口單位" in hant("welcome", name="x")
    assert "權限" in hant("error.not_allowed") and "許可權" not in hant("error.not_allowed")


def test_parameters_are_escaped_but_the_catalogues_markup_is_kept() -> None:
    text = default_texts()("zh-Hans")("welcome", name="<b>李</b>&")
    assert "&lt;b&gt;李&lt;/b&gt;&amp;" in text and "<b>民声</b>" in text


def test_a_message_defined_in_two_catalogue_files_is_refused_with_its_line(texts_dir: Path) -> None:
    (texts_dir / "zh-Hans.extra.yaml").write_text("messages:\n  other: 好\n  help: 重复\n", encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        Texts.load(texts_dir)
    assert "zh-Hans.extra.yaml:3: messages.help: already defined in zh-Hans.yaml" in str(raised.value)


def test_a_malformed_placeholder_is_refused_with_its_line(texts_dir: Path) -> None:
    (texts_dir / "zh-Hans.extra.yaml").write_text("messages:\n  ok: 好\n  broken: 您好 {name\n", encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        Texts.load(texts_dir)
    assert "zh-Hans.extra.yaml:3: messages.broken: expected '}'" in str(raised.value)


def test_an_override_must_name_an_existing_message_with_the_same_placeholders(texts_dir: Path) -> None:
    (texts_dir / "zh-Hant.overrides.yaml").write_text(
        "messages:\n  welcome: 您好！\n  nonexistent: 什麼\n", encoding="utf-8"
    )
    with pytest.raises(DataFileError) as raised:
        Texts.load(texts_dir)
    problems = str(raised.value)
    assert "overrides.yaml:2: messages.welcome: placeholders differ" in problems
    assert "overrides.yaml:3: messages.nonexistent: no such message" in problems


TOKENS = st.sampled_from(["字", "😀", "&amp;", "&lt;", "。", "\n", "a", " ", "<b>粗</b>", "<i>斜<b>粗</b></i>"])


@settings(max_examples=60, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=600), st.integers(min_value=20, max_value=300))
def test_split_pieces_fit_the_limit_keep_entities_and_pairs_whole_and_balance_tags(
    tokens: list[str], limit: int
) -> None:
    text = "".join(tokens)
    pieces = split_html(text, limit)
    for piece in pieces:
        assert utf16_length(piece) <= limit
        assert not re.search(r"&[a-z]*$|^[a-z]*;", piece)  # no entity cut in half
        assert "\ud83d" not in piece  # never half an emoji
        for tag in ("b", "i"):
            assert piece.count(f"<{tag}>") == piece.count(f"</{tag}>")
    visible = html.unescape(re.sub(r"<[^>]+>", "", "".join(pieces)))
    assert re.sub(r"\s", "", visible) == re.sub(r"\s", "", html.unescape(re.sub(r"<[^>]+>", "", text)))


def test_a_split_prefers_a_line_break() -> None:
    text = "第一段" * 30 + "\n" + "第二段" * 30
    first, second = split_html(text, 120)
    assert first == "第一段" * 30 and second == "第二段" * 30


#: What OpenCC's Taiwan phrases make of everyday words: computing jargon, wrong in a complaint service.
IT_JARGON = ("型別", "繫結", "檔案", "視窗", "預設", "許可權", "檢視", "程式", "物件", "引數", "回撥", "介面")


def test_no_traditional_text_uses_computing_jargon_or_simplified_quotation_marks() -> None:
    hant = default_texts()("zh-Hant")
    for key in sorted(load_catalogue()):
        text = hant.plain(key, **dict.fromkeys(placeholders(load_catalogue()[key]), "1"))
        assert not [term for term in IT_JARGON if term in text], (key, text)
        assert not set("“”‘’") & set(text), (key, text)


def test_everyday_words_keep_their_meaning_in_traditional() -> None:
    hant = default_texts()("zh-Hant")
    assert "問題類型" in hant("complaint.understood.problems", problems="x")
    assert "綁定成功" in hant("bind.done", agency="x", role="y")
    assert "社保窗口" in hant("complaint.ask_place") and "「市民中心" in hant("complaint.ask_place")
    assert hant.script("科技与信息产业") == "科技與信息產業"  # an official area name keeps its words


def test_converting_traditional_text_again_changes_nothing() -> None:
    """Fragments rendered once and names converted by a handler may reach the renderer again."""
    texts, hant = default_texts(), default_texts()("zh-Hant")
    for key in load_catalogue():
        assert hant.script(hant(key)) == hant(key), key
    assert texts("zh-Hans").script("市住房和城乡建设局") == "市住房和城乡建设局"


def test_traditional_parameters_are_converted_but_what_a_person_wrote_is_kept() -> None:
    hant = default_texts()("zh-Hant")
    assert "臉難看、推諉扯皮" in hant("complaint.understood.problems", problems="脸难看、推诿扯皮")
    assert "城鄉建設" in hant("complaint.understood.area", area="城乡建设")
    assert "市政務服務中心" in hant("complaint.choose_agency", fallback="市政务服务中心")
    assert "不滿意" in hant("rate.thanks", tracking_no="20261122-0001", rating="不满意")
    header = hant("status.header", tracking_no="20261122-0001", status="办理中", agency="市住房和城乡建设局")
    assert "市住房和城鄉建設局" in header and "20261122-0001" in header
    words = "窗口的人说文件不全，让我下载软件<再来>"
    assert f"{html.escape(words, quote=False)}" in hant("status.summary", text=words)
    assert "窗口单位" in hant("status.event.withdrawn_with_reason", reason="窗口单位不管")


def test_a_fragment_rendered_by_the_catalogue_is_inserted_as_it_is() -> None:
    hant = default_texts()("zh-Hant")
    event = hant("status.event.rated_with_reason", rating="不满意", reason="态度<差>")
    line = hant("status.event.line", at="11-22 10:00", what=event)
    assert "不滿意（态度&lt;差&gt;）" in line


def test_notices_convert_names_and_tags_for_a_traditional_reader() -> None:
    hant = default_texts()("zh-Hant")
    params = {
        "tracking_no": "20261122-0001",
        "agency_name": "市住房和城乡建设局",
        "problem_types": ["脸难看", "推诿扯皮"],
        "reason": "这事归区里管",
        "from_agency": "市人力资源和社会保障局",
        "to_agency": "区住房和城乡建设局",
    }
    receipt = render_notice("complaint.receipt", params, hant, ZoneInfo("Asia/Shanghai"))
    assert "市住房和城鄉建設局" in receipt and "城乡" not in receipt
    transferred = render_notice("complaint.transferred", params, hant, ZoneInfo("Asia/Shanghai"))
    assert "區住房和城鄉建設局" in transferred and "这事归区里管" in transferred
    new = render_notice("agency.new_complaint", params, hant, ZoneInfo("Asia/Shanghai"))
    assert "臉難看、推諉扯皮" in new


def test_agency_times_name_the_weekday_in_the_readers_script() -> None:
    moment = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)  # a Thursday, 17:30 in Shanghai
    assert local_time(default_texts()("zh-Hans"), moment, ZoneInfo("Asia/Shanghai")) == "12月10日（周四）17:30"
    assert local_time(default_texts()("zh-Hant"), moment, ZoneInfo("Asia/Shanghai")) == "12月10日（週四）17:30"


def test_a_refused_extension_tells_the_agency_the_offices_reason_once_punctuated() -> None:
    params = {"tracking_no": "20261203-0001", "approved": False, "reason": "理由不充分，请按期办结。", "days": 10}
    text = render_notice("agency.extension_decided", params, default_texts()("zh-Hans"), ZoneInfo("Asia/Shanghai"))
    assert "没有批准" in text and "理由不充分，请按期办结。" in text and "。。" not in text
