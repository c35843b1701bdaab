"""Disclosure triage on children's sentences: positives, and negatives that must not flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from yimi.voice.text import triage as triage_module
from yimi.voice.text.triage import triage

POSITIVES = [
    ("爸爸喝醉了就打我", "abuse"),
    ("我昨天又被打了，身上有伤", "abuse"),
    ("妈妈总是用衣架打我", "abuse"),
    ("后妈经常掐我", "abuse"),
    ("爸爸打我的头，很疼", "abuse"),
    ("他们把我关在门外一晚上", "abuse"),
    ("有个叔叔摸我的身体，还不让我告诉别人", "abuse"),
    ("爸爸妈妈去外地打工了，我一个人在家好几天", "neglect"),
    ("家里没人管我，经常没饭吃", "neglect"),
    ("我每天都饿肚子", "neglect"),
    ("爸妈三个月都不回家", "neglect"),
    ("放学了没人接我，我只能在校门口等到天黑", "neglect"),
    ("班上的同学欺负我，还勒索我的零花钱", "bullying"),
    ("我被孤立了，没有人跟我玩", "bullying"),
    ("他们逼我给他们钱", "bullying"),
    ("高年级的天天推我", "bullying"),
    ("同学们给我起外号，还嘲笑我", "bullying"),
    ("如果有人欺负我怎么办", "bullying"),  # hypothetical: flagged on purpose (recall)
    ("我不想活了", "self_harm"),
    ("有时候我想死", "self_harm"),
    ("我会用小刀割自己", "self_harm"),
    ("活着没意思，死了算了", "self_harm"),
    ("我想从楼上跳下去", "self_harm"),
    ("我 不 想 活 了", "self_harm"),  # spacing does not hide it
    ("我不想活了！！爸爸又打我", "self_harm"),
]

NEGATIVES = [
    "没有人打我，大家都很好",
    "爸爸从来不打我",
    "爸爸不会打我的",
    "我没有被打过",
    "没有人欺负我，我很开心",
    "我打我弟弟是闹着玩的",
    "你给我打电话吧",
    "笑死我了，这个滑梯太好玩了",
    "想死你了，奶奶！",
    "商场在搞跳楼价",
    "我们不应该欺负小动物",
    "我喜欢打篮球和打游戏",
    "这个公园没人管，垃圾很多",
    "天太热了，热死了",
    "我饿了想吃饭",
    "我希望公园里多一些滑梯。",
    "奶奶说要吃饱饭才能长高",
]


@pytest.mark.parametrize(("text", "kind"), POSITIVES)
def test_disclosures_are_flagged(text: str, kind: str) -> None:
    result = triage(text)
    assert result.flagged
    assert kind in result.kinds
    for hit in result.hits:
        assert text[hit.start : hit.end] == hit.phrase


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_sentences_are_not_flagged(text: str) -> None:
    result = triage(text)
    assert not result.flagged, result.hits


def test_negated_hits_are_kept_for_staff() -> None:
    result = triage("没有人打我")
    assert not result.flagged
    assert [h.phrase for h in result.negated] == ["打我"]


def test_several_kinds() -> None:
    result = triage("我不想活了！！爸爸又打我，同学也欺负我")
    assert set(result.kinds) == {"self_harm", "abuse", "bullying"}
    assert "不想活了" in result.phrases


def test_alternative_rules(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(
        "negators: [没有]\nkinds:\n  neglect:\n    label: 忽视\n    phrases: [锁在家里]\n",
        encoding="utf-8",
    )
    rules = triage_module.load_rules(path)
    assert rules is triage_module.load_rules(path)
    assert triage("妈妈把我锁在家里", rules).kinds == ["neglect"]
    assert not triage("妈妈没有锁在家里", rules).flagged
    assert not triage("妈妈把我锁在家里").flagged
