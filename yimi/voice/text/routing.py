"""Topic and department suggestion for a letter: jieba word segmentation and weighted keywords.

``rules/routing.yaml`` maps each topic (公园与游戏, 出行安全 …) to a department kind and
keywords with weights; a topic's score is the sum of the weights of its keywords among the
letter's words (a keyword inside a longer word counts too). The suggestion is only a suggestion: the 妇儿工委办 confirms it. Each rule file
gets its own ``jieba.Tokenizer`` with the rule words added, so one city's words never change
another's segmentation (``jieba.lcut`` would share one global dictionary).
``evaluate`` measures the rules on ``rules/labelled.yaml``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jieba

from yimi.voice.text._rules import RULES_DIR, RulesError, read_yaml

# jieba announces every dictionary it builds on stderr; the CLI and the server keep quiet.
jieba.setLogLevel(logging.WARNING)

__all__ = [
    "DEFAULT_LABELLED_PATH",
    "DEFAULT_RULES_PATH",
    "Evaluation",
    "RoutingRules",
    "Suggestion",
    "Topic",
    "default_rules",
    "evaluate",
    "load_labelled",
    "load_rules",
    "suggest",
    "tokenize",
]

DEFAULT_RULES_PATH = RULES_DIR / "routing.yaml"
DEFAULT_LABELLED_PATH = RULES_DIR / "labelled.yaml"


@dataclass(frozen=True)
class Topic:
    """A topic, the department kind that handles it and its keyword weights."""

    name: str
    department: str
    keywords: dict[str, float]


@dataclass(frozen=True)
class RoutingRules:
    """Topics in file order, the fallback topic, the tokenizer and the file they came from."""

    topics: tuple[Topic, ...]
    fallback: Topic
    tokenizer: jieba.Tokenizer
    source: Path


@dataclass(frozen=True)
class Suggestion:
    """A ranked suggestion: topic, department kind, score and the words that scored."""

    topic: str
    department: str
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    """Accuracy of the top suggestion on a labelled set, with the misses to look at."""

    total: int
    correct: int
    misses: tuple[tuple[str, str, str], ...]  # (text, expected, suggested)

    @property
    def accuracy(self) -> float:
        """Share of examples whose top suggestion is the labelled topic."""
        return self.correct / self.total if self.total else 0.0


def load_rules(path: str | Path) -> RoutingRules:
    """Load routing rules from a YAML file (a city's edited copy of ``rules/routing.yaml``)."""
    return _load_rules(Path(path).resolve())


# Loading builds a jieba dictionary (≈ 1–2 s). Letters arriving together right after a server
# starts would each build their own under a bare cache: one lock makes them wait for the first.
_LOAD_LOCK = threading.Lock()


def _load_rules(path: Path) -> RoutingRules:
    with _LOAD_LOCK:
        return _load_rules_once(path)


@functools.cache
def _load_rules_once(path: Path) -> RoutingRules:
    data = read_yaml(path, required=("topics",))
    topics = [
        Topic(
            name=str(name),
            department=str(spec.get("department", "")),
            keywords={str(w): float(v) for w, v in (spec.get("keywords") or {}).items()},
        )
        for name, spec in (data["topics"] or {}).items()
    ]
    by_name = {t.name: t for t in topics}
    fallback_name = str(data.get("fallback_topic", "其他"))
    if fallback_name not in by_name:
        raise RulesError(f"{path}: fallback_topic {fallback_name!r} is not one of the topics")
    tokenizer = jieba.Tokenizer()
    words = {str(w) for w in data.get("user_words") or []}
    words.update(w for t in topics for w in t.keywords)
    for word in sorted(words):  # sorted: the same dictionary, whatever the set's order
        tokenizer.add_word(word)
    tokenizer.initialize()  # now, under the lock, rather than at the first letter's cut
    return RoutingRules(
        topics=tuple(topics), fallback=by_name[fallback_name], tokenizer=tokenizer, source=path
    )


def default_rules() -> RoutingRules:
    """The rules shipped with Yimi (``rules/routing.yaml``), loaded once."""
    return _load_rules(DEFAULT_RULES_PATH.resolve())


def tokenize(text: str, rules: RoutingRules | None = None) -> list[str]:
    """The letter's words, as cut by the rules' jieba tokenizer (``lcut``, precise mode)."""
    rules = rules or default_rules()
    return rules.tokenizer.lcut(text)


def suggest(text: str, rules: RoutingRules | None = None) -> list[Suggestion]:
    """Topics with a positive score, best first (ties in file order), else the fallback topic."""
    rules = rules or default_rules()
    counts = Counter(tokenize(text, rules))
    ranked: list[Suggestion] = []
    for topic in rules.topics:
        found: Counter[str] = Counter()
        for token, n in counts.items():
            if token in topic.keywords:
                found[token] += n
            elif len(token) > 2:
                # jieba's own dictionary sometimes keeps a compound whole ("老师上课"): its
                # keywords of two or more characters count too.
                for word in topic.keywords:
                    if len(word) >= 2 and word in token:
                        found[word] += n
        matched = tuple(found)
        score = sum(topic.keywords[w] * n for w, n in found.items())
        if score > 0:
            ranked.append(Suggestion(topic.name, topic.department, score, matched))
    ranked.sort(key=lambda s: -s.score)  # stable: equal scores keep the file's order
    if not ranked:
        ranked.append(Suggestion(rules.fallback.name, rules.fallback.department, 0.0, ()))
    return ranked


def load_labelled(
    path: str | Path = DEFAULT_LABELLED_PATH, *, split: str | None = None
) -> list[tuple[str, str]]:
    """(text, topic) pairs from a labelled YAML file (``examples: [{text, topic, split}, …]``).

    ``split`` keeps only the examples of one split: ``"dev"`` (those without a ``split`` key,
    used while writing the rules) or ``"holdout"`` (written after, never used for tuning).
    """
    data = read_yaml(path, required=("examples",))
    return [
        (str(e["text"]), str(e["topic"]))
        for e in data["examples"]
        if split is None or e.get("split", "dev") == split
    ]


def evaluate(
    examples: list[tuple[str, str]] | None = None, rules: RoutingRules | None = None
) -> Evaluation:
    """Accuracy of the top suggestion on ``examples`` (default: ``rules/labelled.yaml``)."""
    examples = load_labelled() if examples is None else examples
    misses = []
    for text, expected in examples:
        got = suggest(text, rules)[0].topic
        if got != expected:
            misses.append((text, expected, got))
    return Evaluation(
        total=len(examples), correct=len(examples) - len(misses), misses=tuple(misses)
    )
