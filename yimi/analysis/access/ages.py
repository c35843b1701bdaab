"""The children's age groups used by demand, rule packs and results."""

from __future__ import annotations

__all__ = ["AGE_GROUPS", "AGE_GROUP_LABELS_EN", "AGE_GROUP_LABELS_ZH"]

# Years, lower bound inclusive, upper exclusive; they follow the service each age uses:
# 托育 (0-3), 幼儿园 (3-6), 小学 (6-12), 初中 (12-15). The order is part of the contract (it is
# the column order of demand weights).
AGE_GROUPS: tuple[str, ...] = ("0-3", "3-6", "6-12", "12-15")

AGE_GROUP_LABELS_ZH: dict[str, str] = {
    "0-3": "0–3岁（托育）",
    "3-6": "3–6岁（学前）",
    "6-12": "6–12岁（小学）",
    "12-15": "12–15岁（初中）",
}

AGE_GROUP_LABELS_EN: dict[str, str] = {
    "0-3": "0–3 years (childcare)",
    "3-6": "3–6 years (pre-school)",
    "6-12": "6–12 years (primary)",
    "12-15": "12–15 years (middle school)",
}
