"""The detector's and the HTML reader's fast paths give exactly what the straightforward code gives.

Ingest classifies every post it stores, so ``pipeline.detector.rules`` and ``collectors.mastodon.html_text`` are
written for speed (issue #20). Each fast path is checked here against a plain reference written the obvious way
(the code it replaced), on the labelled sets, on API-shaped statuses like the benchmark's, and on variants of the
labelled texts with links, accents and smart quotes in every language the rules know, so that the slow path of
quoting (words looked up one by one) is exercised too. A verdict, its reasons and its quoted words must not change.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.mastodon import html_text
from collectors.mastodon.html_text import html_to_text
from pipeline.detector import rules
from pipeline.detector.model import _PAIR, _WORD, Model, base_model, features
from pipeline.detector.rules import classify, normalise
from tests.benchmarks.common import StatusStream
from tests.support import DRESSINGS, labelled_texts

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


# --------------------------------------------------------------------------
# References: the straightforward code
# --------------------------------------------------------------------------


def reference_find_words(text: str, frag: str) -> str | None:
    tokens = [(m.start(), m.end(), normalise(m.group()).strip()) for m in re.finditer(r"\S+", text)]
    joined, starts = "", []
    for _, _, norm in tokens:
        starts.append(len(joined))
        joined += norm + " "
    at = joined.find(frag)
    if at == -1 or not frag:
        return None
    first = max(i for i, st in enumerate(starts) if st <= at)
    last = max(i for i, st in enumerate(starts) if st < at + len(frag))
    return text[tokens[first][0]:tokens[last][1]].strip(" ,.;:!")


def reference_quote(text: str, s: str, a: int, b: int, limit: int = 60) -> str:
    frag = " ".join(s[a:b].split())
    if frag == "?":
        return "?"
    if len(s) == len(text) and text.isascii():
        out = " ".join(text[a:b].split())
    else:
        out = reference_find_words(text, frag) or frag
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "\u2026"


def reference_quotes(text: str, s: str, spans: list[tuple[str, int, int]]) -> list[str]:
    return [reference_quote(text, s, a, b) for _, a, b in spans]


def reference_top_words(self: Model, norm: str, positive: bool, n: int = 3) -> list[str]:
    scored = []
    for g in set(features(norm)):
        if g[0] in (_WORD, _PAIR):
            w = self.weights.get(g, 0.0)
            if (w > 0) == positive and w != 0.0:
                scored.append((abs(w), g[1:]))
    return [g for _, g in sorted(scored, reverse=True)[:n]]


REFERENCE_TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")


# --------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------


def _variants(texts: list[tuple[str, str | None]]) -> Iterator[tuple[str, str | None]]:
    """Each labelled text once more, dressed as real posts are: links, smart quotes, accents, emoji, tags."""
    rng = random.Random(20)
    dress = DRESSINGS
    for text, lang in texts:
        yield rng.choice(dress)(text), lang


def _statuses(n: int = 3000) -> list[dict]:
    stream = StatusStream(accounts=300, seed=11)
    return [status for items in stream.chunk(n).values() for status in items]


LABELLED = labelled_texts()
STATUSES = _statuses()
TEXTS = [*LABELLED, *_variants(LABELLED), *((html_to_text(s["content"]), s.get("language")) for s in STATUSES)]


def test_the_texts_cover_every_language_and_the_slow_quoting_path() -> None:
    langs = {lang for _, lang in TEXTS}
    assert {"en", "fr", "de", "es", "nl", "it", "pt", None} <= langs, langs
    slow = sum(1 for t, _ in TEXTS if not (t.isascii() and len(normalise(t)) == len(t)))
    assert slow > 2000, slow  # links or accents: the words are looked up one by one


# --------------------------------------------------------------------------
# Same output
# --------------------------------------------------------------------------


def test_classify_is_what_the_straightforward_code_says(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [classify(t, lang) for t, lang in TEXTS]
    monkeypatch.setattr(rules, "_quotes", reference_quotes)
    monkeypatch.setattr(Model, "top_words", reference_top_words)
    slow = [classify(t, lang) for t, lang in TEXTS]
    assert sum(v.is_request for v in fast) > 500 and any(r.startswith("model:") for v in fast for r in v.reasons)
    differ = [(t, a, b) for (t, _), a, b in zip(TEXTS, fast, slow, strict=True) if a != b]
    assert not differ, differ[:3]


def test_quoted_words_are_found_as_the_straightforward_code_finds_them() -> None:
    """Every fragment a reason can quote, and some it cannot, looked up both ways."""
    checked = 0
    for text, lang in TEXTS:
        s = normalise(text)
        index = rules._index_words(text)
        spans = [(a, b) for _, a, b in rules._run_rules(text, lang).asks + rules._run_rules(text, lang).nots]
        frags = {" ".join(s[a:b].split()) for a, b in spans} | {"", "no such words here", s.split()[-1] if s else ""}
        for frag in frags:
            assert rules._find_words(text, index, frag) == reference_find_words(text, frag), (text, frag)
            checked += 1
    assert checked > 10_000


def test_top_words_are_the_straightforward_ones() -> None:
    model = base_model()
    for text, _ in TEXTS[:3000]:
        s = normalise(text)
        for positive in (True, False):
            assert model.top_words(s, positive) == reference_top_words(model, s, positive), text


def test_tags_are_stripped_as_the_straightforward_pattern_strips_them() -> None:
    rng = random.Random(7)
    pieces = ["<", ">", '"', "'", "a", " ", "/", "p", "br", "span", "=", "x", "\n", 'href="', "'>'"]
    samples = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 40))) for _ in range(20_000)]
    samples += [s["content"] for s in STATUSES] + [s["account"]["note"] for s in STATUSES[:200]]
    for sample in samples:
        assert html_text._TAG.sub("", sample) == REFERENCE_TAG.sub("", sample), sample


# --------------------------------------------------------------------------
# Same output in every process
# --------------------------------------------------------------------------

_QUOTE_ALL = """
import json, sys
from pipeline.detector.rules import classify
for line in sys.stdin:
    text, lang = json.loads(line)
    print(json.dumps(classify(text, lang).labels()))
"""


def test_quoted_words_do_not_depend_on_the_hash_seed() -> None:
    """A rule keyed on several words quotes its earliest match, whatever order Python's sets happen to take."""
    feed = "".join(json.dumps(pair) + "\n" for pair in [*LABELLED, *_variants(LABELLED)])
    outputs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", _QUOTE_ALL], input=feed, capture_output=True, text=True,
                              env=env, cwd=ROOT, check=True, timeout=120)
        outputs.append(done.stdout)
    assert outputs[0].count("\n") == len(LABELLED) * 2
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_word_cache_stays_bounded_and_skips_links() -> None:
    """One-off tokens (links, numbers) must not grow the cache for ever; the answers do not depend on it."""
    rules._WORD_NORMS.clear()
    link = "https://example.org/" + "a" * 40 + "?q=1"
    text = f"See {link} now!"
    for frag in ("see", "now", "see now"):
        assert rules._find_words(text, rules._index_words(text), frag) == reference_find_words(text, frag)
    assert link not in rules._WORD_NORMS and rules._WORD_NORMS["See"] == "see"
    for i in range(101_000):
        rules._norm_word(f"w{i}")
    assert len(rules._WORD_NORMS) <= 100_001
    assert rules._norm_word("Bibliothèque") == "bibliotheque"
