"""Personal data is found as spans into the given text and masked for publication."""

from __future__ import annotations

from itertools import pairwise

from nlp.personal_data import PersonalSpan, find_personal_data, redact


def kinds(text: str) -> list[tuple[str, str]]:
    return [(span.kind, text[span.start : span.end]) for span in find_personal_data(text)]


def test_mobile_numbers_are_found_plain_spaced_and_full_width() -> None:
    text = "电话13812345678，或者139 8765 4321，或者＋86 １３７１２３４５６７８"
    assert kinds(text) == [
        ("mobile", "13812345678"),
        ("mobile", "139 8765 4321"),
        ("mobile", "＋86 １３７１２３４５６７８"),
    ]


def test_landline_needs_an_area_code_so_amounts_are_not_masked() -> None:
    text = "座机0731-84123456转123，罚款12000000元"
    assert kinds(text) == [("landline", "0731-84123456转123")]


def test_id_number_with_birth_date_and_check_letter_is_found() -> None:
    assert kinds("身份证号43010519900307123X。") == [("id_number", "43010519900307123X")]


def test_bank_card_numbers_grouped_or_plain_are_found() -> None:
    text = "卡号6222 0212 3456 7890 123和6217002870012345678"
    assert kinds(text) == [("bank_card", "6222 0212 3456 7890 123"), ("bank_card", "6217002870012345678")]


def test_email_addresses_are_found() -> None:
    assert kinds("请回复到 zhang.san@163.com 谢谢") == [("email", "zhang.san@163.com")]


def test_dates_case_numbers_and_short_numbers_are_not_personal_data() -> None:
    assert find_personal_data("2020年12月3日，受理编号20201203001，房号B29栋2单元") == []


def test_spans_do_not_overlap_and_are_in_text_order() -> None:
    spans = find_personal_data("a@b.cn 13812345678 43010519900307123X")
    assert [span.kind for span in spans] == ["email", "mobile", "id_number"]
    assert all(a.end <= b.start for a, b in pairwise(spans))
    assert isinstance(spans[0], PersonalSpan)


def test_redact_masks_the_middle_of_phone_numbers_and_replaces_the_rest() -> None:
    text = "电话13812345678，座机0731-84123456，身份证43010519900307123X，邮箱a.b@qq.com，卡6217002870012345678"
    assert redact(text) == "电话138****5678，座机0731-****，身份证[身份证号]，邮箱[电子邮箱]，卡[银行卡号]"


def test_redact_leaves_text_without_personal_data_unchanged() -> None:
    text = "小区门口的路灯坏了三个月"
    assert redact(text) == text
