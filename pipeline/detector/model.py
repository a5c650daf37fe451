"""The learned half of the help-request detector: n-gram features scored by logistic regression.

Why a model beside the rules: the rules only know the phrases someone wrote down, in four languages. A request
worded another way ("I'd love to borrow...", "weet iemand...", "qualcuno usa...") or an advert shaped like a
question slips past them. Character n-grams generalise across spelling, inflection and languages the rules never
saw, and a linear model stays explainable (each n-gram has one weight) and cheap.

Why this shape: inference is pure Python, a dict lookup per feature, so it runs on every ingested post in a few
tens of microseconds and needs no numpy, no scikit-learn and no download. The weights are a small JSON file shipped
in the package (``request_model.json``, trained by ``pipeline.detector.train``); a community's own retrained model
has the same JSON shape and lives in the database (see ``pipeline.detector.store``).

The rules and the model are combined by three stacked weights (``combine``) learned on out-of-fold predictions,
so neither side is trusted more than the labelled data says.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import repeat

__all__ = ["Model", "base_model", "features", "load_json", "word_features", "words_of"]

FORMAT = 1
# Word features sit in their own namespace so "koha" the word and "koha" the 4-gram are different weights.
_WORD = "\x02"
_PAIR = "\x03"
_SHAPE = "\x04"
_RULE = "\x05"  # the named rules that fired: the model learns how far each deserves trust
_MAX_CHARS = 600  # a request says what it wants early; the tail of a long post is mostly tags and links
_WORD_TABLE = bytes(b if chr(b).isalnum() or chr(b) in "'?" else 0x20 for b in range(128)) + bytes([0x20] * 128)


def words_of(norm: str) -> list[str]:
    """The words of a normalised text; a "?" or an apostrophe stays with its word ("library?", "i'd")."""
    return norm[:_MAX_CHARS].encode("ascii", "ignore").translate(_WORD_TABLE).decode("ascii").split()


def word_features(word: str) -> list[str]:
    """One word's features: its character 4-grams with the word edges (" lib", "ry? "), and the word itself."""
    t = " " + word + " "
    return [t[i : i + 4] for i in range(len(t) - 3)] + [_WORD + word]


def features(norm: str, rules: Iterable[str] = ()) -> list[str]:
    """The features of a text already passed through ``request_rules.normalise``, as the model counts them.

    Each *distinct* word contributes its ``word_features`` once (a word repeated in hashtags says no more), and
    each distinct pair of neighbouring words one feature. Working word by word is what makes scoring cheap: a
    word's weight sum is computed once per process and cached (``Model.logit``).
    """
    words = words_of(norm)
    out: list[str] = []
    for w in dict.fromkeys(words):
        out += word_features(w)
    out += dict.fromkeys(_PAIR + a + " " + b for a, b in zip(words, words[1:], strict=False))
    return out + shape_features(norm, words) + [_RULE + r for r in dict.fromkeys(rules)]


def shape_features(norm: str, words: list[str]) -> list[str]:
    """Where the post's question sits: its first word, and the word right after its first "?".

    An advert or a rhetorical question answers itself ("...? Our service...", "...? No."), a request goes on
    asking or explaining ("...? We're on spreadsheets"): the word after the "?" tells them apart in any language.
    """
    out = [_SHAPE + "^" + words[0]] if words else []
    q = norm.find("?")
    if q != -1:
        after = norm[q + 1 : q + 40].encode("ascii", "ignore").translate(_WORD_TABLE).decode("ascii").split()
        out.append(_SHAPE + "?" + (after[0] if after else "$"))
    return out


@dataclass(frozen=True, slots=True)
class Model:
    """Weights of one trained model and the stacking weights that combine it with the rules.

    ``combine`` = (bias, weight of the rules' margin, weight of the model's logit); ``threshold`` is the combined
    probability at which a post counts as a request.
    """

    weights: dict[str, float]
    bias: float
    combine: tuple[float, float, float]
    threshold: float = 0.5
    name: str = "base"
    examples: int = 0
    _words: dict[str, float] = field(default_factory=dict, compare=False, repr=False)  # word -> its grams' sum
    _pairs: dict[tuple[str, str], float] = field(default_factory=dict, compare=False, repr=False)
    _whole: dict[str, float] = field(default_factory=dict, compare=False, repr=False)  # weights of _WORD features

    def __post_init__(self) -> None:
        # Pair weights keyed by (word, next word): scoring then looks pairs up as tuples of the words it already
        # has (their hashes are cached), instead of building and hashing a new "\x03a b" string per pair. Whole
        # words' weights keyed by the word, so ``top_words`` meets a post's weighted words by one set operation.
        for k, v in self.weights.items():
            if k[:1] == _PAIR and " " in k:
                a, _, b = k[1:].partition(" ")
                self._pairs[a, b] = v
            elif k[:1] == _WORD:
                self._whole[k[1:]] = v

    def logit(self, norm: str, rules: Iterable[str] = ()) -> float:
        """The model's own log-odds that ``norm`` (a normalised text) is a request: ``features`` scored, fast.

        Why it does not call ``features``: each distinct word's grams are summed once per process (``_words``)
        and a word of n characters has exactly n features (n - 1 4-grams and itself), so a post costs one dict
        lookup per distinct word and per distinct pair of neighbours, and no string is built but the shape's.
        """
        words = words_of(norm)
        if not words:
            return self.bias
        uniq = set(words)
        sums = self._words
        try:
            total = sum(map(sums.__getitem__, uniq))
        except KeyError:
            self._learn(uniq)
            total = sum(map(sums.__getitem__, uniq))
        pairs = set(zip(words, words[1:], strict=False))
        shape = shape_features(norm, words)
        shape += [_RULE + r for r in dict.fromkeys(rules)]
        get = self.weights.get
        total += sum(map(self._pairs.get, pairs, repeat(0.0))) + sum(map(get, shape, repeat(0.0)))
        return self.bias + total / math.sqrt(sum(map(len, uniq)) + len(pairs) + len(shape))

    def _learn(self, words: Iterable[str]) -> None:
        """Sum the gram weights of the words not seen yet (``logit``'s cache, bounded)."""
        sums, get = self._words, self.weights.get
        missing = [w for w in words if w not in sums]
        if len(sums) + len(missing) > 100_000:  # a stream of one-off tokens must not grow the cache for ever
            sums.clear()
            missing = list(words)  # the post's known words went with the rest
        for w in missing:
            sums[w] = sum(map(get, word_features(w), repeat(0.0)))

    def decide(self, margin: float, logit: float) -> float:
        """Probability that a post is a request, from the rules' margin and the model's logit."""
        b0, b_rules, b_model = self.combine
        z = b0 + b_rules * max(-6.0, min(6.0, margin)) + b_model * max(-12.0, min(12.0, logit))
        return 1.0 / (1.0 + math.exp(-z))

    def top_words(self, norm: str, positive: bool, n: int = 3) -> list[str]:
        """The words or word pairs of ``norm`` that pushed hardest in one direction: the model's own "why"."""
        words = words_of(norm)  # only the word and pair features of ``features``: the rest are not words
        whole, pairs, scored = self._whole, self._pairs, []
        for w in whole.keys() & set(words):
            v = whole[w]
            if (v > 0) == positive and v != 0.0:
                scored.append((abs(v), w))
        for a, b in set(filter(pairs.__contains__, zip(words, words[1:], strict=False))):
            v = pairs[a, b]
            if (v > 0) == positive and v != 0.0:
                scored.append((abs(v), a + " " + b))
        return [g for _, g in sorted(scored, reverse=True)[:n]]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "name": self.name, "examples": self.examples, "bias": self.bias,
                           "combine": list(self.combine), "threshold": self.threshold, "weights": self.weights},
                          ensure_ascii=True, separators=(",", ":"), sort_keys=True)


def load_json(text: str) -> Model:
    """A model from its JSON form; a file of another format is refused rather than half-read."""
    data = json.loads(text)
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown detector model format {data.get('format')!r}")
    return Model(weights={str(k): float(v) for k, v in data["weights"].items()}, bias=float(data["bias"]),
                 combine=tuple(float(x) for x in data["combine"]),  # type: ignore[arg-type]
                 threshold=float(data.get("threshold", 0.5)), name=str(data.get("name", "base")),
                 examples=int(data.get("examples", 0)))


@lru_cache(maxsize=1)
def base_model() -> Model:
    """The model shipped with peerdesk, trained on ``pipeline/request_data.jsonl``."""
    return load_json(resources.files("pipeline.detector").joinpath("request_model.json").read_text(encoding="utf-8"))
