"""Published text carries no names, phone numbers, ID numbers, cards, e-mails or sub-street addresses."""

from __future__ import annotations

import pytest

from reports.redaction import redact_for_publication as redact

REAL_LOOKING = (
    "我叫王建国，身份证号43010519900307123X，手机13975112345，邮箱wangjg1990@163.com。"
    "家住长沙市芙蓉区解放西路168号阳光花园3栋2单元501室，"
    "去年10月8号到不动产登记中心3楼窗口办证，工作人员李芳态度恶劣，刘科长说不归他们管。"
    "退款请打到工行卡6222 0213 0404 5566 778。"
)


def test_real_looking_complaint_keeps_its_substance_and_loses_every_identifier() -> None:
    public = redact(REAL_LOOKING)
    for secret in (
        "王建国",
        "李芳",
        "43010519900307123X",
        "13975112345",
        "wangjg1990",
        "168号",
        "阳光花园",
        "3栋",
        "501室",
        "刘科长",
        "6222 0213",
    ):
        assert secret not in public, secret
    for kept in ("解放西路", "不动产登记中心", "3楼窗口", "态度恶劣", "不归他们管", "10月8号", "139****2345"):
        assert kept in public, kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫张伟，想反映问题", "我叫某某，想反映问题"),
        ("我叫张伟想反映问题", "我叫某某想反映问题"),
        ("工作人员李芳态度恶劣", "工作人员某某态度恶劣"),
        ("民警王小强说不归他管", "民警某某说不归他管"),
        ("本人王小明反映", "本人某某反映"),
        ("联系人：欧阳娜娜", "联系人：某某"),
        ("本人姓王，退休教师", "本人姓某，退休教师"),
        ("我姓李，叫李明，想投诉", "我姓某，叫某某，想投诉"),
        ("窗口的李阿姨很热情", "窗口的某阿姨很热情"),
        ("张晓明先生和王女士都去了", "某先生和某女士都去了"),
        ("所里的老刘说小陈不在", "所里的老某说小某不在"),
    ],
)
def test_names_in_the_usual_patterns_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("住在人民路58号附近，路灯不亮", "住在人民路[详细地址]附近，路灯不亮"),
        ("朝阳区建国路8号院12号楼3层漏水", "朝阳区建国路[详细地址]漏水"),
        ("幸福家园5栋1单元门口堆满垃圾", "[详细地址]门口堆满垃圾"),
        ("门牌号是18号，一直没人来修", "门牌号[详细地址]，一直没人来修"),
        ("芙蓉中路二段99号后面的工地", "芙蓉中路二段[详细地址]后面的工地"),
    ],
)
def test_addresses_keep_the_street_and_lose_what_is_below_it(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "10月1号去办事，排了3个小时的队",
        "公安局长和老师傅都说老百姓的事要办好",
        "用小程序办理社保，罚款200元",
        "小区门口的路灯坏了，我们小区物业不作为",
        "第3号文件规定不能乱收费",
    ],
)
def test_ordinary_words_dates_floors_and_amounts_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_citizens_own_name_is_masked_wherever_it_appears() -> None:
    text = "诸葛明反映：物业说诸葛明家欠费，但他早已缴清。"
    assert "诸葛明" not in redact(text, known_names=["诸葛明"])


def test_nothing_to_redact_returns_an_empty_string_for_none() -> None:
    assert redact(None) == ""
