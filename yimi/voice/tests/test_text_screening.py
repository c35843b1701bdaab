"""敏感词 screening: insults and spam markers, with normalisation tricks undone."""

from __future__ import annotations

from pathlib import Path

import pytest

from yimi.voice.text import screening
from yimi.voice.text._normalise import normalise
from yimi.voice.text.screening import screen

HITS = [
    ("你真是个笨蛋！", "insult", "笨蛋"),
    ("你真是个笨 蛋！", "insult", "笨 蛋"),
    ("笨·蛋", "insult", "笨·蛋"),
    ("白\u200b痴", "insult", "白\u200b痴"),
    ("他是傻Ｘ", "insult", "傻Ｘ"),
    ("加Ｖ领取优惠", "advertising", "加Ｖ"),
    ("请加 v，兼职日赚三百", "advertising", "加 v"),
    ("访问 www.example.com 有惊喜", "advertising", "www.example.com"),
    ("点这里 https://example.cn/abc", "advertising", "https://example.cn/abc"),
    ("欢迎来我们的网站 abc.cn", "advertising", "abc.cn"),
    ("微信号：shop_2024 批发玩具", "advertising", "微信号：shop_2024"),
    ("ｖｘ同号", "advertising", "ｖｘ"),
    ("扫 码 免 费 领 取", "advertising", "扫 码"),
]

CLEAN = [
    "我希望公园里多一些滑梯。",
    "加油！学校的图书馆很好。",
    "我叫Vivian，我喜欢画画。",
    "我的邮箱是a@b.com",  # personal data is pii's business, not spam
    "学校的电脑课很有意思。",
    "我想和爸爸一起去科技馆。",
]


@pytest.mark.parametrize(("text", "category", "found"), HITS)
def test_hits(text: str, category: str, found: str) -> None:
    hits = screen(text)
    assert (hits[0].category, hits[0].text) == (category, found)
    assert text[hits[0].start : hits[0].end] == found


@pytest.mark.parametrize("text", CLEAN)
def test_clean_letters(text: str) -> None:
    assert screen(text) == []


def test_normalise_keeps_a_map_to_the_original() -> None:
    norm = normalise("加 Ｖ，笨 . 蛋 ab c")
    assert norm.text == "加 v,笨蛋 ab c"  # a space next to a Latin letter stays
    start = norm.text.index("笨蛋")
    assert norm.span(start, start + 2) == (4, 9)


def test_alternative_list(tmp_path: Path) -> None:
    path = tmp_path / "screening.yaml"
    path.write_text("categories:\n  spam:\n    label: 广告\n    words: [滑梯]\n", encoding="utf-8")
    rules = screening.load_rules(path)
    assert rules is screening.load_rules(str(path))
    assert [h.category for h in screen("公园的滑 梯", rules)] == ["spam"]
    assert screen("公园的滑梯") == []


def test_invalid_pattern_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("categories:\n  x:\n    patterns: ['(']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.yaml"):
        screening.load_rules(path)
