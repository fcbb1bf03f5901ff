"""Code tables of the text block: gender (GB/T 2261.1) and nation (GB/T 3304)."""

from __future__ import annotations

GENDERS: dict[str, str] = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

# GB/T 3304 codes 01..56, in code order.
_NATION_NAMES = (
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
)

NATIONS: dict[str, str] = {f"{code:02d}": name for code, name in enumerate(_NATION_NAMES, start=1)}
NATIONS |= {"97": "其他", "98": "外国血统中国籍人士"}

_GENDER_CODES = {name: code for code, name in GENDERS.items()}
_NATION_CODES = {name: code for code, name in NATIONS.items()}


def gender_name(code: str) -> str | None:
    """The label for a gender code, or None if unknown."""
    return GENDERS.get(code)


def gender_code(name: str) -> str | None:
    """The code for a gender label, or None if unknown."""
    return _GENDER_CODES.get(name)


def nation_name(code: str) -> str | None:
    """The label for a two-digit nation code, or None if unknown."""
    return NATIONS.get(code)


def nation_code(name: str) -> str | None:
    """The two-digit code for a nation label, or None if unknown."""
    return _NATION_CODES.get(name)
