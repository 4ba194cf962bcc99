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


def test_car_plates_are_found_ordinary_new_energy_and_special() -> None:
    text = "车牌粤B12345，新能源粤BD12345和粤A·12345F，警车京A1234警，挂车鲁C5678挂，小写湘a8j092"
    assert kinds(text) == [
        ("plate", "粤B12345"),
        ("plate", "粤BD12345"),
        ("plate", "粤A·12345F"),
        ("plate", "京A1234警"),
        ("plate", "鲁C5678挂"),
        ("plate", "湘a8j092"),
    ]


def test_words_after_a_province_are_not_plates() -> None:
    assert find_personal_data("新iPhone12和新Mate40，京东快递，云ABCDE，新版本") == []


def test_wechat_ids_are_found_alone_or_after_their_word() -> None:
    text = "加我wxid_zhang888，微信：zhang_888，微信号 zhang888，vx: li-si-2020，V信wang_wu"
    assert kinds(text) == [
        ("wechat", "wxid_zhang888"),
        ("wechat", "微信：zhang_888"),
        ("wechat", "微信号 zhang888"),
        ("wechat", "vx: li-si-2020"),
        ("wechat", "V信wang_wu"),
    ]


def test_qq_numbers_need_their_word() -> None:
    text = "QQ 123456789，qq号：12345678，ＱＱ３０７４８５２２，扣扣54321"
    assert kinds(text) == [
        ("qq", "QQ 123456789"),
        ("qq", "qq号：12345678"),
        ("qq", "ＱＱ３０７４８５２２"),
        ("qq", "扣扣54321"),
    ]


def test_local_landline_without_area_code_needs_a_phone_word() -> None:
    text = "座机83451234，联系电话：8345123，固话号码是 23456789"
    assert kinds(text) == [
        ("landline", "座机83451234"),
        ("landline", "电话：8345123"),
        ("landline", "固话号码是 23456789"),
    ]


def test_contact_words_and_ordinary_numbers_are_not_personal_data() -> None:
    text = (
        "赔偿12000元，2026年12月3日（20261203）寄出，快递单号20261203-0001，住1203室，"
        "小区的微信群和QQ群123456里说过，微信公众号3月30日发布，QQ空间，电话费83451234元以外，打12345"
    )
    assert find_personal_data(text) == []


def test_a_mobile_given_as_wechat_or_qq_stays_a_mobile() -> None:
    assert kinds("微信：13812345678，QQ 13912345678") == [("mobile", "13812345678"), ("mobile", "13912345678")]


def test_redact_masks_plates_wechat_qq_and_local_landlines() -> None:
    text = "车牌粤BD12345，加微信：zhang_888或QQ 123456789，座机83451234"
    assert redact(text) == "车牌粤B*****，加[微信号]或[QQ号]，[电话号码]"


def test_each_span_alone_is_masked_as_in_its_text() -> None:
    """The dashboard re-redacts each span's text on its own, so a span must carry what identifies it."""
    text = "微信号 zhang888，qq号：12345678，座机83451234，粤B12345"
    spans = find_personal_data(text)
    assert [span.kind for span in spans] == ["wechat", "qq", "landline", "plate"]
    for span in spans:
        piece = text[span.start : span.end]
        assert redact(piece) != piece
