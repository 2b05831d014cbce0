"""Synthetic residents: families with a realistic age mix, names, phones, ID numbers and key-group tags.

Everything is drawn from the caller's random.Random, so a seed gives the same people. ID numbers are built in
memory with a correct GB 11643 check character and handed to the register only through the PII helpers (hash +
last four); they are never stored or printed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from server.common.demo.geography import REFERENCE_YEAR
from server.common.pii import id_number_check_char

SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
                 "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤")
MALE_CHARS = tuple("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林洋亮成建国志文海东峰兵春德福贵永祥"
                   "家庆晨阳子轩博睿泽宏")
FEMALE_CHARS = tuple("芳娜敏静丽艳娟霞秀玲桂英红梅莉婷雪琳燕萍倩洁颖晶慧佳欣月玉兰凤云蓉琴萱怡梓涵诗雨晓")
# Mobile prefixes of the three operators; the rest of the number is random (format 1[3-9]x xxxx xxxx).
PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
                  "156", "157", "158", "159", "166", "173", "175", "176", "177", "180", "181", "182", "183", "186",
                  "187", "188", "189", "191", "198", "199")
# Birthplaces of people who moved here: Hefei, Wuhu, Bengbu, Huainan, Fuyang, Suzhou (Anhui), Nanjing, Jinan, Zhengzhou.
OTHER_ID_AREAS = ("340102", "340104", "340111", "340202", "340302", "340404", "341202", "341321", "320106",
                  "320114", "370102", "410105")
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Household sizes 1–5: shares close to a Chinese prefecture city (mean ≈ 2.7).
SIZE_WEIGHTS = (18, 30, 25, 17, 10)
_SIZE_CUM = tuple(sum(SIZE_WEIGHTS[: i + 1]) for i in range(len(SIZE_WEIGHTS)))


@dataclass
class Person:
    name: str
    sex: str  # "M" / "F"
    birth_year: int
    phone: str  # "" when none
    id_number: str  # in memory only
    groups: tuple[str, ...]


class IdNumbers:
    """Unique ID numbers: a per-(area, birth date) sequence, odd for men and even for women."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str, str], int] = {}

    def make(self, area: str, birth: str, sex: str) -> str:
        key = (area, birth, sex)
        k = self._next.get(key, 0)
        self._next[key] = k + 1
        seq = (2 * (k % 500) + (1 if sex == "M" else 0)) % 1000
        first17 = f"{area}{birth}{seq:03d}"
        return first17 + id_number_check_char(first17)


def _given_name(rng: random.Random, sex: str) -> str:
    chars = MALE_CHARS if sex == "M" else FEMALE_CHARS
    return rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.65 else "")


def _phone(rng: random.Random, age: int) -> str:
    share = 0.0 if age < 12 else 0.6 if age < 18 else 0.95 if age < 70 else 0.7 if age < 80 else 0.4
    if rng.random() >= share:
        return ""
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"


def _ages(rng: random.Random, size: int) -> list[tuple[int, str, str]]:
    """(age, sex, role) of each member; roles: head, spouse, child, elder."""
    def couple(lo: int, hi: int) -> list[tuple[int, str, str]]:
        a = rng.randint(lo, hi)
        return [(a, "M", "head"), (max(18, a + rng.randint(-5, 2)), "F", "spouse")]

    def child(parent: int) -> tuple[int, str, str]:
        return (max(0, parent - rng.randint(22, 34)), rng.choice("MF"), "child")

    def elders(n: int, parent: int) -> list[tuple[int, str, str]]:
        base = min(95, max(60, parent + rng.randint(22, 32)))
        if n == 1:
            return [(base, rng.choice("MF"), "elder")]
        return [(base, "M", "elder"), (max(60, base - rng.randint(0, 4)), "F", "elder")]

    if size == 1:
        if rng.random() < 0.45:
            return [(rng.randint(60, 92), "F" if rng.random() < 0.6 else "M", "head")]
        return [(rng.randint(20, 59), rng.choice("MF"), "head")]
    if size == 2:
        r = rng.random()
        if r < 0.42:
            return couple(60, 88)
        if r < 0.85:
            return couple(22, 59)
        p = couple(30, 50)[rng.randrange(2)]
        return [p, child(p[0])]
    r = rng.random()
    if size == 3:
        members = couple(25, 52) if r < 0.88 else couple(52, 66)
        return members + [child(members[0][0])]
    members = couple(28, 48)
    kids = [child(members[0][0]) for _ in range(2)]
    if size == 4:
        return members + (kids if r < 0.65 else kids[:1] + elders(1, members[0][0]))
    return members + (kids + elders(1, members[0][0]) if r < 0.5 else kids[:1] + elders(2, members[0][0]))


def _groups(rng: random.Random, age: int, sex: str) -> tuple[str, ...]:
    """Tags by hand (the `elderly` group is derived from the birth year and never tagged)."""
    tags = []
    if 6 <= age <= 18 or (19 <= age <= 22 and rng.random() < 0.5):
        tags.append("student")
    if 28 <= age <= 65 and rng.random() < 0.02:
        tags.append("company_head")
    elif 22 <= age <= 55 and rng.random() < 0.03:
        tags.append("finance_staff")
    if sex == "F" and 20 <= age <= 50 and "student" not in tags and rng.random() < 0.12:
        tags.append("woman_at_home")
    if 30 <= age <= 70 and rng.random() < 0.04:
        tags.append("investment_risk")
    return tuple(tags)


def household_size(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4, 5), cum_weights=_SIZE_CUM)[0]


def family(rng: random.Random, size: int, *, home_area: str, ids: IdNumbers) -> list[Person]:
    """The members of one household; children carry the father's surname, wives keep their own."""
    surname = rng.choice(SURNAMES)
    people = []
    for age, sex, role in _ages(rng, size):
        own = rng.choice(SURNAMES) if role == "spouse" or (role == "elder" and sex == "F") else surname
        if role == "head" and sex == "F" and size == 1:
            own = surname
        birth_year = REFERENCE_YEAR - age
        month = rng.randint(1, 12)
        birth = f"{birth_year:04d}{month:02d}{rng.randint(1, _MONTH_DAYS[month - 1]):02d}"
        area = home_area if rng.random() < 0.85 else rng.choice(OTHER_ID_AREAS)
        people.append(Person(
            name=own + _given_name(rng, sex), sex=sex, birth_year=birth_year, phone=_phone(rng, age),
            id_number=ids.make(area, birth, sex), groups=_groups(rng, age, sex),
        ))
    return people


def person_name(rng: random.Random, sex: str | None = None) -> tuple[str, str]:
    """(full name, sex) of one adult, e.g. a company contact."""
    sex = sex or rng.choice("MF")
    return rng.choice(SURNAMES) + _given_name(rng, sex), sex


def mobile(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
