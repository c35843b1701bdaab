"""Personal-data masking on realistic children's sentences, in both directions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from yimi.care.identity import generate_id_number
from yimi.voice.text import pii
from yimi.voice.text.pii import detect_pii, mask_pii

# (sentence, expected masked text)
MASKED = [
    ("我叫王小明，今年9岁。", "我叫王**，今年9岁。"),
    ("我是李华，我希望五道口公园多一些滑梯。", "我是李*，我希望五道口公园多一些滑梯。"),
    ("我的同学张伟坐轮椅，地铁站没有电梯。", "我的同学张*坐轮椅，地铁站没有电梯。"),
    ("我妈妈叫刘芳芳，她说学院路上车太快。", "我妈妈叫刘**，她说学院路上车太快。"),
    ("我叫小雨，我想要一个图书角。", "我叫小*，我想要一个图书角。"),
    ("我叫欧阳娜娜。", "我叫欧***。"),
    ("我姓王，叫王乐乐。", "我姓王，叫王**。"),
    ("我和张三一起去公园。", "我和张*一起去公园。"),
    ("我是王老师班上的，我叫李明明。", "我是王老师班上的，我叫李**。"),
    ("我的名字是赵一一，我在朝阳区实验小学。", "我的名字是赵**，我在[学校]。"),
    ("我叫王小明，王小明最喜欢秋千。", "我叫王**，王**最喜欢秋千。"),
    ("我在海淀实验小学读书。", "我在[学校]读书。"),
    ("我在海淀实验小学三年级二班。", "我在[学校][班级]。"),
    ("中关村三小门口需要红绿灯。", "[学校]门口需要红绿灯。"),
    ("我哥哥在人大附中上学。", "我哥哥在[学校]上学。"),
    ("我是五（2）班的。", "我是[班级]的。"),
    ("我家住在海淀区学院路30号。", "我家住在[地址]。"),
    ("我家在幸福小区3号楼2单元501室。", "我家在[地址]。"),
    ("我住3号楼2单元，楼下的垃圾桶很臭。", "我住[地址]，楼下的垃圾桶很臭。"),
    ("我的电话是138 1234 5678。", "我的电话是138****5678。"),
    ("妈妈的手机是139-8765-4321，有事找她。", "妈妈的手机是139****4321，有事找她。"),
    ("打+86 13812345678找我。", "打138****5678找我。"),
    ("家里电话010-62345678。", "家里电话010-******78。"),
    ("我的邮箱是xiaoming2015@163.com。", "我的邮箱是***@163.com。"),
    ("我的QQ号是12345678。", "我的QQ号是********。"),
    ("加我微信：xiaoming_2015", "加我微信：[微信号]"),
]

# Sentences about places and things that must stay as written.
UNCHANGED = [
    "我希望五道口公园里多一些滑梯。",
    "地铁站的电梯太少了，奶奶上下很累。",
    "我们学校门口的斑马线太窄了。",
    "放学后学校门口很乱，车太多了。",
    "我是三年级的学生，我希望学校有更多的书。",
    "我明年就上小学了，希望一小时能玩很久。",
    "我坐地铁5号线上学，学院路和成府路交叉口很危险。",
    "附近的中学门口没有红绿灯。",
    "公园2号门旁边的厕所坏了。",
    "我是高年级的，我想帮小同学。",
    "我的同学们都喜欢踢球。",
    "我是陈老师的学生，陈老师让我们写信。",
    "他们总叫我外号，我不喜欢。",
    "我的好朋友马上就要搬家了。",
    "2023年9月1日开学，我们班有45个同学。",
    "我打12345反映过这件事。",
    "今年是2025年，我们有60000多封信。",
    "我希望学校的操场大一点。",
    "爸爸说中关村大街上应该多种树。",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_pii(text).masked == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_places_a_letter_is_about_stay(text: str) -> None:
    result = mask_pii(text)
    assert result.masked == text, result.spans


def test_id_numbers_use_the_check_digit() -> None:
    number = generate_id_number(random.Random(5), region="110108")
    result = mask_pii(f"我的身份证号是{number}。")
    assert [s.kind for s in result.spans] == ["id_number"]
    assert result.masked == f"我的身份证号是{number[:3]}{'*' * 11}{number[-4:]}。"
    # A wrong check digit is not an ID number, but 18 digits are still hidden.
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    spans = detect_pii(f"号码{wrong}")
    assert [s.kind for s in spans] == ["number"]
    assert wrong not in mask_pii(f"号码{wrong}").masked


def test_old_15_digit_id_numbers() -> None:
    spans = detect_pii("爷爷的身份证是110108520101123")
    assert [(s.kind, s.text) for s in spans] == [("id_number", "110108520101123")]


def test_full_width_digits() -> None:
    assert mask_pii("电话１３８１２３４５６７８").masked == "电话138****5678"


def test_spans_point_into_the_text() -> None:
    text = "我叫王小明，电话13812345678，在海淀实验小学。"
    for span in detect_pii(text):
        assert text[span.start : span.end] == span.text
    assert mask_pii(text).kinds == {"name", "mobile", "school"}


def test_alternative_rules_file(tmp_path: Path) -> None:
    source = pii.DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    edited = tmp_path / "pii.yaml"
    edited.write_text(source.replace("surnames: [王,", "surnames: [Ｚ,"), encoding="utf-8")
    rules = pii.load_rules(edited)
    assert rules is pii.load_rules(edited)  # loaded once
    # 王 is no longer a surname: "我是王华" is not taken as a name any more.
    assert mask_pii("我是王华", rules).masked == "我是王华"
    assert mask_pii("我是王华").masked == "我是王*"
