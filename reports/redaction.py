"""Text fit for publication: phones, ID numbers, cards and e-mails through ``nlp.personal_data``, plus the
two kinds of personal data that regular expressions over digits miss — people's names and addresses
below street level. It errs on the side of masking: a published complaint losing a word is harmless,
a published name or door number is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nlp.personal_data import redact as redact_numbers

#: The most common surnames (about 85% of the population), single and double.
_SURNAMES = (
    "欧阳|司马|诸葛|上官|东方|皇甫|慕容|令狐|司徒|"
    "王|李|张|刘|陈|杨|黄|赵|吴|周|徐|孙|马|朱|胡|郭|何|高|林|罗|郑|梁|谢|宋|唐|许|韩|冯|邓|曹|彭|曾|肖|田|董|"
    "袁|潘|于|蒋|蔡|余|杜|叶|程|苏|魏|吕|丁|任|沈|姚|卢|姜|崔|钟|谭|陆|汪|范|金|石|廖|贾|夏|韦|付|傅|方|白|邹|孟|"
    "熊|秦|邱|江|尹|薛|闫|段|雷|侯|龙|史|陶|黎|贺|顾|毛|郝|龚|邵|万|钱|严|覃|武|戴|莫|孔|向|汤|常|温|康|施|文|"
    "牛|樊|葛|邢|安|齐|易|乔|伍|庞|颜|倪|庄|聂|章|鲁|岳|翟|殷|詹|申|欧|耿|关|兰|焦|俞|左|柳|甘|祝|包|宁|尚|符|舒|"
    "阮|柯|纪|梅|童|凌|毕|单|季|裴|霍|涂|成|苗|谷|盛|曲|翁|冉|骆|蓝|路|游|辛|靳|管|柴|蒙|鲍|华|喻|祁|蒲|房|滕|屈|"
    "饶|解|牟|艾|尤|阳|时|穆|农|司|卓|古|吉|缪|简|车|项|连|芦|麦|褚|娄|窦|戚|岑|景|党|宫|费|卜|冷|晏|席|卫|米|柏|"
    "宗|瞿|桂|全|佟|应|臧|闵|苟|邬|边|卞|姬|师|仇|栾|隋|商|刁|沙|荣|巫|寇|桑|郎|甄|丛|仲|虞|敖|巩|明|佘|池|查|"
    "麻|苑|迟|邝"
)
_FULL_NAME_TITLES = "先生|女士|小姐|同学"
_TITLES = (
    "阿姨|叔叔|师傅|大爷|大妈|大娘|大姐|大哥|老师|医生|警官|老板|经理|"
    "科长|主任|所长|局长|站长|队长|组长|处长|书记|奶奶|爷爷"
)
_CJK = r"[\u4e00-\u9fff]"
#: Characters that, before a surname-like character, make it part of an ordinary word (公安, 治安 …).
_NOT_A_NAME_BEFORE = r"(?<![公治保平晚西延泰])"
#: Characters after 老/小 that make an ordinary word (小时, 老师, 小程序 …) rather than a nickname.
_NOT_A_NICKNAME = r"(?!时|师|车|米|明|和|路|商|麦|包|程|城|区|学|康|吃)"
_INTRODUCTIONS = r"(?<=[，,。；;\s])叫|我叫|我是|本人是?|名叫|叫做|姓名[:：]?|联系人[:：]?|投诉人[:：]?"
#: Staff named by their role: 工作人员李芳 / 民警王强 / 窗口的张丽.
_ROLES = r"工作人员|办事员|民警|辅警|医生|护士|职员|窗口的|经办人|负责人"
#: A given name is one character, or two when the second is not a word that commonly follows a name.
_GIVEN = rf"{_CJK}(?:(?![态说不让在把对的就也又是都还没拒要告讲骂推称一和却竟根很非给向跟与想])(?:{_CJK}))?"
_NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 我叫张三 / 本人王小明 / 联系人：李四 / 名叫赵五 — the whole name goes.
    (re.compile(rf"({_INTRODUCTIONS})(?:{_SURNAMES}){_GIVEN}"), r"\1某某"),
    # 姓王 / 姓欧阳 — even a surname narrows a neighbourhood down to a household.
    (re.compile(rf"(?<![百贵])姓(?:{_SURNAMES})"), "姓某"),
    # 张晓明先生 / 王女士 — a full name or a surname before a polite form of address.
    (re.compile(rf"{_NOT_A_NAME_BEFORE}(?:{_SURNAMES}){_CJK}{{0,2}}?(?={_FULL_NAME_TITLES})"), "某"),
    # 李阿姨 / 张科长 — a surname before a title.
    (re.compile(rf"{_NOT_A_NAME_BEFORE}(?:{_SURNAMES})(?={_TITLES})"), "某"),
    # 老刘 / 小陈 — nicknames.
    (re.compile(rf"([老小]){_NOT_A_NICKNAME}(?:{_SURNAMES})"), r"\1某"),
    # 工作人员李芳 / 民警王强 — last, so 窗口的李阿姨 has already become 窗口的某阿姨.
    (re.compile(rf"({_ROLES})(?:{_SURNAMES}){_GIVEN}"), r"\1某某"),
)

# Addresses: the street (路/街/巷/大道) stays, everything below it goes.
_NUM = r"[0-9０-９一二三四五六七八九十百零〇两]+"
_UNIT = r"(?:号院|号楼|号|栋|幢|座|单元|层|楼|室|户|弄|排|组)"
_BELOW_STREET = re.compile(rf"(?<![月0-9０-９第])(?:{_NUM}(?:[-－]{_NUM})?{_UNIT}(?:之{_NUM})?)+(?:{_NUM})?")
#: Units that only ever appear in addresses; 号/层/楼 alone may be a date, a window or a floor.
_ADDRESS_UNITS = re.compile(r"号院|号楼|栋|幢|单元|室|户|弄")
_STREET_ENDINGS = "路街巷道村里弄段"
_COMPOUND = re.compile(
    rf"(?<![我你他她们这那本该])(?:{_CJK}{{2,6}})(?:小区|花园|家园|公寓|新村|社区|大院|宿舍|名苑|华庭|公馆)(?={_NUM}|[东西南北]?门|$|[，。,；;\s])"
)
_DOOR_NUMBER = re.compile(rf"门牌号?(?:码)?(?:是|为|[:：])?\s*{_NUM}[号]?")
_ADDRESS_MASK = "[详细地址]"


def _redact_names(text: str, known_names: Iterable[str]) -> str:
    for name in sorted({name.strip() for name in known_names if len(name.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, "某某")
    for pattern, replacement in _NAME_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _mask_below_street(match: re.Match[str]) -> str:
    before = match.string[match.start() - 1] if match.start() else ""
    if _ADDRESS_UNITS.search(match.group()) or before in _STREET_ENDINGS:
        return _ADDRESS_MASK
    return match.group()


def _redact_addresses(text: str) -> str:
    text = _DOOR_NUMBER.sub("门牌号" + _ADDRESS_MASK, text)
    text = _COMPOUND.sub(_ADDRESS_MASK, text)
    text = _BELOW_STREET.sub(_mask_below_street, text)
    return re.sub(rf"(?:{re.escape(_ADDRESS_MASK)})+", _ADDRESS_MASK, text)


def redact_for_publication(text: str | None, *, known_names: Iterable[str] = ()) -> str:
    """``text`` with numbers, names and sub-street addresses masked; ``known_names`` (e.g. the citizen's
    display name) are masked wherever they occur, whatever the surrounding words."""
    if not text:
        return ""
    return _redact_addresses(_redact_names(redact_numbers(text), known_names))
