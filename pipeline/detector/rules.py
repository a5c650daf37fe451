"""Help-request detection: named rules, weighed together with a learned model.

peerdesk shows an organiser which *help requests* under a community hashtag are
still unanswered, so it must tell "Does anyone know a good ILS for a 2-person
law library?" apart from "Did you know...?", webinar adverts, job ads and blog
promotion. Hand-written rules do most of that and say why; a small learned
model (``pipeline.detector.model``) catches what no rule names (other wordings,
languages without rules) and weighs the rules against each other:

* **Explainable.** Every verdict carries named reasons (``asks:does-anyone-know``,
  ``not:hiring``) *with the words each matched in the post*, and ``model:0.83``
  when the model overruled the rules, so the organiser sees *why* a post is (or
  is not) in the queue.
* **Overridable and learning.** A curator who disagrees flips the post by hand;
  the decision also trains the community's own model (``pipeline.detector.store``).
* **Cheap and private.** Standard library at inference, no network, a JSON of
  weights; a call costs tens of microseconds.
* **Multilingual by construction.** Rules for English, French, German, Spanish
  and a few for Dutch, Italian, Portuguese, Swedish, Danish, Catalan and Polish
  are always applied together because platform language tags are often
  missing or wrong; ``lang`` is only a hint (see ``classify``).

How a verdict is reached
    Every rule that fires adds its weight once per slug.  *Ask* rules add
    evidence for a request: 3 is firm on its own, 2 needs a second cue, and a
    real question mark adds 1.  A question that no phrase rule knows still
    counts 2 if it is shaped like a genuine question (see
    ``_direct_question``).  *Not* rules subtract: rhetorical openers, event
    adverts, job ads, thanks-after-help, shared advice and so on.  The rules
    alone would call a post a request when asks minus nots reach
    ``_THRESHOLD`` (3); ``classify`` passes that margin and the model's
    log-odds to ``Model.decide``, whose three weights were fitted on
    out-of-fold predictions (``pipeline.detector.train``).

How it stays fast (tens of microseconds for a 500-character post)
    Python's ``re`` has no multi-pattern search, and a pattern that starts
    with ``\\b`` or a lookbehind is tried at every position of the post.  So
    every rule is *anchored* at key words: the post is split into words once,
    rules are looked up by the words present, and each rule is tried only
    with ``match()`` at the occurrences of its key word (constraints on the
    words before the key are fixed-width lookbehinds).  All rules sharing a
    key are fused into one regex, so one C-level attempt per occurrence says
    which of them hold.  Rules that are a bare word are set lookups.

Matching runs on a normalised copy of the text: case-folded, apostrophes
unified, accents stripped (``weiß`` -> ``weiss``, ``¿Conocéis`` -> ``conoceis``),
links removed (a ``?`` inside a URL is not a question).
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from pipeline.detector.model import Model, base_model

__all__ = ["Verdict", "active_model", "classify", "explain", "normalise", "rule_margin", "use_model"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one post and the named rules that decided it.

    ``reasons`` holds the winning side's slugs: ``asks:*`` (and
    ``question-mark``) for a request; ``not:*`` for a post that is not one.
    ``not:no-ask`` / ``not:weak-ask`` mean that no (or not enough) asking cue
    was found, rather than that something argued against it.
    """

    is_request: bool
    reasons: tuple[str, ...]
    words: tuple[str, ...] = ()  # what each reason matched in the post ("" when nothing can be quoted)

    def labels(self) -> tuple[str, ...]:
        """The reasons as stored with the post: ``slug=words`` ("asks:does-anyone-know=anyone know")."""
        return tuple(f"{r}={w}" if w else r for r, w in zip(self.reasons, self.words or ("",) * len(self.reasons),
                                                            strict=True))


def explain(label: str) -> str:
    """A stored reason as a person reads it: the words the post matched, or the rule's name when none were kept.

    ``asks:does-anyone-know=anyone know`` -> ``“anyone know”``; ``model:0.83=weet iemand`` ->
    ``model 0.83 (weet iemand)``; ``not:no-ask`` -> ``no ask``; older rows (a bare slug) read as before.
    """
    slug, _, words = label.partition("=")
    if slug.startswith("model:"):
        return f"model {slug[6:]}" + (f" ({words})" if words else "")
    if words and words != "?":
        return f"\u201c{words}\u201d"
    if slug == "question-mark":
        return "has a question mark"
    kind, _, rest = slug.partition(":")
    if kind == "asks" and rest:
        return f"asks \u201c{rest.replace('-', ' ')}\u201d"
    return (rest or slug).replace("-", " ")


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

# The inverted question mark survives the ASCII fold as this control
# character, so Spanish questions keep their starting point.
_INVQ = "\x01"

# Characters that NFKD would drop or mangle but that carry meaning here.
_PRE_REPLACE: dict[str, str] = {
    "\u2019": "'",  # right single quotation mark, the usual "smart" apostrophe
    "\u2018": "'",
    "\u02bc": "'",
    "\u00b4": "'",
    "\u2032": "'",
    "\uff07": "'",
    "\u2014": " - ",  # em dash: keep the words on either side apart
    "\u2013": " - ",
    "\u2026": "...",
    "\u00bf": _INVQ,  # ¿
    "\u00a1": " ",  # ¡
    "\u2753": "?",  # ❓
    "\u2754": "?",  # ❔
    "\u00ab": '"',
    "\u00bb": '"',
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u0153": "oe",  # œ
    "\u00e6": "ae",
    "\u00f8": "o",
    "\u0142": "l",
    "\U0001f9f5": " thread ",  # 🧵 marks a thread of shared advice
}
_PRE_ITEMS = tuple(_PRE_REPLACE.items())

# Links: a "?" in a query string is not a question, and path words are noise.
# Both patterns start with a literal so the regex engine can skip ahead fast;
# the second catches the scheme-less links Bluesky shows ("site.org/p?id=3")
# from the slash on, leaving "and/or?" alone.
_URL_RE = re.compile(r"https?://\S+")
_WWW_RE = re.compile(r"www\.\S+")
_BARE_QUERY_RE = re.compile(r"/[^\s?]*\?(?=\S)\S*")

# Byte table for word splitting: letters and digits stay, the rest is a space.
_WORD_TABLE = bytes(b if chr(b).isalnum() else 0x20 for b in range(256))


def normalise(text: str) -> str:
    """Fold text to the lower-case ASCII form the rules are written against.

    Why ASCII: NFKD + ``encode("ascii", "ignore")`` strips accents in C, which
    keeps a 500-character post at a few microseconds, and lets one pattern
    match both ``connaît`` and the often-typed ``connait``.  The characters
    that would be lost but matter (smart apostrophes, ``¿``, dashes) are
    mapped first.  Emoji and non-Latin scripts are dropped.
    """
    t = text.casefold()  # also ß -> ss
    if not t.isascii():
        for ch, rep in _PRE_ITEMS:  # ~20 C-level scans beat one Python-level pass
            if ch in t:
                t = t.replace(ch, rep)
        t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    if "`" in t:
        t = t.replace("`", "'")
    if "://" in t:
        t = _URL_RE.sub(" ", t)
    if "www." in t:
        t = _WWW_RE.sub(" ", t)
    if "/" in t and "?" in t:
        t = _BARE_QUERY_RE.sub(" ", t)
    return t


# --------------------------------------------------------------------------
# Rule building blocks
# --------------------------------------------------------------------------


class _Rule(NamedTuple):
    slug: str
    weight: int
    lang: str | None  # language the cue belongs to; None = any language
    keys: tuple[str, ...]  # words the rule starts at (or, with rx None, simply needs)
    rx: re.Pattern[str] | None  # matched with .match() at each key occurrence
    raw: str  # the pattern as written, possibly with {K}
    q: bool  # a "?" must close the sentence after the match (keyword rules: after the word)


def _r(slug: str, weight: int, lang: str | None, keys: str, pattern: str, q: bool = False) -> _Rule:
    """A pattern rule: ``pattern`` must match starting at one of ``keys``.

    ``{K}`` in the pattern stands for "the key word itself, as a whole word";
    it is filled in per key when the rules are fused, so a rule anchored on a
    list of nouns does not re-test the whole noun list at every occurrence.
    """
    # Compiled once here so a broken pattern fails at import, naming its rule.
    return _Rule(slug, weight, lang, tuple(keys.split()), re.compile(pattern.replace("{K}", r"\w+\b")), pattern, q)


def _kw(slug: str, weight: int, lang: str | None, keys: str, q: bool = False) -> _Rule:
    """A keyword rule: fires when one of the whole words ``keys`` occurs."""
    return _Rule(slug, weight, lang, tuple(keys.split()), None, "", q)


def _alt(words: str) -> str:
    """``"a b_c"`` -> ``"(?:a|b c)"`` (``_`` stands for a space)."""
    return "(?:" + "|".join(w.replace("_", " ") for w in words.split()) + ")"


def _by_width(words: str) -> list[str]:
    """``words`` grouped into same-length alternations, longest first.

    A lookbehind must be fixed-width, so each group becomes one lookbehind;
    one per length is much cheaper to try than one per word.
    """
    groups: dict[int, list[str]] = {}
    for w in words.split():
        w = w.replace("_", " ")
        groups.setdefault(len(w), []).append(w)
    return ["(?:" + "|".join(ws) + ")" for _, ws in sorted(groups.items(), reverse=True)]


def _pre(words: str) -> str:
    """Require one of ``words`` (then a space) right before this point."""
    return "(?:" + "|".join(rf"(?<=\b{g} )" for g in _by_width(words)) + ")"


def _npre(words: str) -> str:
    """Forbid each of ``words`` (then a space) right before this point."""
    return "".join(rf"(?<!\b{g} )" for g in _by_width(words))


# Start of a sentence or clause: not preceded by a word (or a comma) and a space.
_SOS = r"(?<![\w,;'\-] )(?<![\w,;'\-])"


def _noun_keys(nouns: str) -> str:
    """Key words for a noun alternation: each word with and without its optional last letter."""
    out: list[str] = []
    for w in nouns.split():
        w = w.split("_")[0].split("'")[0]
        out += [w[:-2], w[:-1]] if w.endswith("?") else [w]
    return " ".join(sorted(set(out)))


# Nouns that name what a request asks for, in all four languages.
_EN_NOUNS = (
    "tips? advice suggestions? recommendations? recs? ideas? thoughts pointers? insights? guidance "
    "feedback hints? wisdom input experiences? alternatives? workarounds? opinions? leads resources "
    "solutions? templates? examples? strategies pros_and_cons sanity_check second_opinion gut_check"
)
_FR_NOUNS = (
    "conseils? idees? recommandations? suggestions? pistes? avis retours? astuces? tuyaux recos? aide "
    "lumieres ressources temoignages experiences? solutions? alternatives? exemples? modeles? coup_de_main"
)
_DE_NOUNS = (
    "tipps? empfehlungen empfehlung ideen idee ratschlage? rat hinweise? erfahrungen erfahrungswerte "
    "erfahrungsberichte input anregungen vorschlage hilfe losung losungen alternativen beispiele vorlagen "
    "meinung meinungen einschatzung einschatzungen"
)
_ES_NOUNS = (
    "consejos? recomendaciones recomendacion sugerencias? ideas? opiniones experiencias? ayuda "
    "orientacion pistas referencias recursos alternativas ejemplos plantillas soluciones"
)
_EN_N, _FR_N, _DE_N, _ES_N = (_alt(n) for n in (_EN_NOUNS, _FR_NOUNS, _DE_NOUNS, _ES_NOUNS))
_ALL_NOUN_KEYS = " ".join(_noun_keys(n) for n in (_EN_NOUNS, _FR_NOUNS, _DE_NOUNS, _ES_NOUNS))

_PEOPLE = r"(?:librarians|libraries|solos|folks|people|colleagues|teams|archivists|cataloguers|catalogers)"
_ADJ = (
    r"(?:good|other|more|further|practical|quick|useful|great|solid|free|cheap|recent|real|hands-on|"
    r"first-hand|firsthand|specific|concrete|simple|easy|cool|clever|creative|fresh)"
)
_FILL = (
    r"(?:some|any|your|a few|a little|a bit of|good|more|other|people's|fellow|specific|quick|practical|"
    r"real-world|honest|expert|to hear|hear|from|you|all|of|y'all|anyone's|folks'|others'|solid|a|an)"
)

# --------------------------------------------------------------------------
# Ask rules
# --------------------------------------------------------------------------

_ASK_RULES: tuple[_Rule, ...] = (
    # ---------------------------------------------------------------- English
    _r("asks:does-anyone-know", 3, "en", "anyone anybody someone somebody any",
       _npre("if in_case") + r"(?:anyone|anybody|someone|somebody|any of (?:you|y'all))"
       r"(?: (?:here|out there|else|around|on here|reading this|in the \w+))* "
       r"(?:know|knows|have any idea|got any idea|happen to know|remember)\b"),
    _r("asks:has-anyone", 3, "en", "anyone anybody someone somebody any y other",
       _pre("has have had did does do is are was were")
       + rf"(?:anyone|anybody|someone|somebody|any of (?:you|y'all)|y'all|other (?:\w+ )?{_PEOPLE})\b"
       r"(?!(?: \w+)? know\b)"),
    _r("asks:can-anyone", 3, "en", "anyone anybody someone somebody any y",
       _pre("can could would will may might") + r"(?:anyone|anybody|someone|somebody|any of (?:you|y'all)|y'all)\b"),
    _r("asks:can-anyone", 3, "en",
       "recommend suggest help point share tell explain advise send check confirm clarify lend",
       _pre("can_you could_you would_you will_you can_you_please could_you_please would_you_please can_you_kindly "
            "could_you_kindly could_you_possibly")
       + r"(?:recommend|suggest|help|point|share|tell|explain|advise|send|check|confirm|clarify|lend)\b"),
    _r("asks:anyone-using", 3, "en", "anyone anybody",
       _npre("if in_case for") + r"(?:anyone|anybody)(?: (?:here|out there|else|around|on here))* "
       r"(?:use|uses|using|used|tried|try|trying|have|has|had|having|seen|got|get|getting|dealt|dealing|"
       r"run|ran|work|works|working|worked|familiar|recommend|suggest|willing|able|experienced|handle|"
       r"handled|handling|catalogue|catalog|cataloguing|cataloging|manage|managed|figured|solved|migrated|"
       r"switched|moved|implemented|found|kept|keep|successfully|ever|already|still|actually|been)\b"),
    _r("asks:any-tips", 3, "en", "any",
       _npre("without n't_have not_have n't_find n't_get never_had n't_need n't_see n't_found")
       + rf"any(?: {_ADJ}){{0,2}} {_EN_N}\b"),
    _r("asks:any-peers-out-there", 3, "en", "any",
       r"any (?:\w+ ){0,2}?\w+s (?:out there|around|here|on here|in the house|reading this)\b"),
    _r("asks:wanted", 3, "en", "wanted needed sought seeking request",
       _SOS + r"(?:wanted|needed|sought|seeking|request)\s*:"),
    _r("asks:seeks-advice", 3, "en",
       "looking seeking searching hunting hoping would grateful appreciate need needs needing want wanted "
       "open keen curious love welcome requesting asking crowdsourcing crowdsource could",
       r"(?:looking for|seeking|searching for|hunting for|hoping for|would love|would appreciate|"
       r"would welcome|grateful for|appreciate any|appreciate your|appreciate some|need|needs|needing|want|"
       r"wanted|open to|keen to hear|curious to hear|love to hear|love|appreciate|welcome any|welcome your|"
       r"requesting|asking for|crowdsourcing|crowdsource|could use|could do with)"
       rf"(?: {_FILL}){{0,3}} (?:{_EN_N}|help)\b(?!\s+(?:is|are) (?:here|available|out))"),
    _r("asks:looking-for", 3, "en", "looking searching hunting",
       "(?:" + _pre("i'm i_am im currently still been also desperately urgently now hi, hello, hey, all, "
                    "everyone, folks, i've_been ive_been")
       + "|" + _SOS + r")(?:looking|searching|hunting) for\b"),
    _r("asks:looking-for", 3, "en", "seeking",
       "(?:" + _pre("desperately urgently still currently") + "|" + _SOS + r")seeking\b"),
    _r("asks:advice-welcome", 3, None, _noun_keys(_EN_NOUNS) + " help",
       r"(?!help wanted){K}(?: \w+){0,4}? (?:welcome|appreciated|wanted|needed|requested|gratefully received|"
       r"please)\b"),
    _kw("asks:advice-question", 3, None, _ALL_NOUN_KEYS, q=True),
    _r("asks:recommendations-for", 3, "en", "recommendations recommendation recs suggestions help",
       _SOS + r"(?:recommendations?|recs|suggestions|help) (?:for|on|about|re|with|needed|please)\b"),
    _r("asks:what-do-you-use", 3, "en", "what",
       r"what(?:'s| is| are| do| does| did| would| should| have)(?: \w+)? (?:you|your|y'all|everyone|others|"
       r"folks|people|other|anyone|everybody)(?: \w+){0,2}? (?:use|using|used|recommend|suggest|think|prefer|"
       r"pay|paying|charge|budget|call|keep|track|tried|consider|advise|rely on|go with)\b"),
    _r("asks:how-do-you", 3, "en", "how",
       r"how (?:do|does|did|would|should|can|could|will|might|are|is) (?:you|your|y'all|others|other|"
       r"everyone|folks|people|one|i|we|anyone|someone|my|our)\b(?! (?:all )?(?:doing|holding up|feeling)\b)"),
    _r("asks:how-to", 2, "en", "how", r"how to\b", q=True),
    _r("asks:which-do-you", 3, "en", "which",
       r"which (?:\w+ ){0,3}?(?:do|does|would|should|did|have|has|are|is|can) "
       r"(?:you|i|we|your|people|others|folks|y'all|everyone|anyone)\b"),
    _r("asks:where-can-i", 2, "en", "where",
       r"where (?:can|could|do|does|should|would|might|to|is|are) (?:i|we|one|you|a person|someone|"
       r"find|get|start|begin|buy|look|go|the best)\b"),
    _r("asks:is-there", 2, "en", "there",
       _pre("is are") + r"there (?:a|an|any|some|good|free|cheap|open|decent|reliable|better|easier|simple|"
       r"standard|official|other|already)\b"),
    # ("Should I push back?" and other modal questions are caught by the
    # generic question analysis below; this is the statement-shaped variant.)
    _r("asks:is-it-ok", 2, "en",
       "ok okay legal allowed possible normal worth fine acceptable reasonable common standard true wise safe "
       "better advisable necessary required idea",
       _pre("is_it") + r"(?:ok|okay|legal|allowed|possible|normal|worth|fine|acceptable|reasonable|common|"
       r"standard|true|wise|safe|better|advisable|necessary|required)\b|(?<=\bis it a good )idea\b"),
    _r("asks:what-is-best", 2, "en", "what whats",
       r"what(?:'s| is| are|s) (?:the |a |your |y'all's )?(?:best|easiest|cheapest|simplest|quickest|fastest|"
       r"right|correct|proper|standard|usual|recommended|go-to|preferred|going rate|most|must-have|essential|"
       r"key|core)\b"),
    _r("asks:help", 3, "en", "help",
       _SOS + r"help\s*[!:?]|help needed\b|help (?:me|please|pls|plz)\b|"
       r"help a (?:\w+ )?(?:librarian|colleague|sister|brother|fellow|solo|newbie)\b|"
       + _pre("please") + r"help\b"),
    _r("asks:help", 3, "en", "need", r"need (?:\w+ ){0,2}?help\b"),
    _kw("asks:help", 3, "en", "sos hivemind"),
    _r("asks:help", 3, "en", "hive", r"hive ?mind\b"),
    _r("asks:calling-all", 2, "en", "calling", r"calling all\b"),
    _r("asks:thanks-in-advance", 3, "en", "thanks thank thx ty cheers",
       r"(?:thanks|thank you|thx|ty|cheers)(?: so much| very much| a lot| all| everyone)? "
       r"(?:in advance|ahead of time|in anticipation)\b"),
    _kw("asks:thanks-in-advance", 3, "en", "tia"),
    _r("asks:who-has-done", 3, "en", "who whos",
       r"who(?:'s| has| have| here has| else has)? (?:\w+ )?(?:done|tried|used|dealt with|had|got|set up|run|"
       r"managed|worked with|experience with|been through|migrated|switched)\b"),
    _r("asks:what-worked", 2, "en", "what", r"what (?:has |have |'s |else )?(?:worked|helped)\b"),
    _r("asks:recommend-me", 3, "en", "recommend suggest please tell show",
       r"(?:recommend|suggest) me\b|please (?:recommend|suggest|advise|send me|point me|help)\b|"
       r"(?:tell|show) me (?:how|what|where|which|your|if|whether)\b"),
    _r("asks:need-to-know", 3, "en", "need want like",
       _pre("i i'd i_would i_really i_just we") + r"(?:need|want|like) to (?:know|find out|understand|learn) "
       r"(?:what|how|if|whether|which|where|who|why|when)\b"),
    _r("asks:trying-to-figure-out", 2, "en", "trying",
       r"trying to (?:figure out|work out|find out|decide|understand|get my head around|make sense of)\b"),
    _r("asks:wondering", 2, "en", "wondering wonder",
       r"(?:wondering|(?<=\bi )wonder) (?:if|whether|how|what|why|where|who|when|which)\b"),
    _r("asks:favour", 3, "en", "point steer willing able mind care borrow",
       r"(?:point|steer) me\b|(?:willing|able|mind|care) (?:to )?shar(?:e|ing)\b|(?<=\bcan i )borrow\b"),
    _r("asks:favour", 3, "en", "share", r"share (?:your|a copy|any|what)\b", q=True),
    _r("asks:quick-question", 3, None, "question",
       _pre("quick small silly dumb stupid basic newbie noob random genuine honest serious follow-up follow_up "
            "one_more another technical practical cataloguing cataloging copyright licensing marc budget petite")
       + r"question\b|question (?:for|to) (?:the|my|all|fellow|other|you)\b|"
       r"question (?:rapide|bete|naive|de debutante?|pour les|aux)\b"),
    _r("asks:quick-question", 3, None, "frage",
       _pre("kurze kleine dumme blode doofe") + r"frage\b|frage (?:an|in) (?:die|alle|euch)\b"),
    _r("asks:quick-question", 3, None, "pregunta duda",
       _pre("una otra") + r"(?:pregunta|duda)\b|pregunta (?:rapida|tonta|para|a los|a las|de novata?)\b"),
    _r("asks:stuck", 2, None, "stuck confused lost loss",
       _pre("i'm i_am im totally completely a_bit so really") + r"(?:stuck|confused|lost|at a loss)\b"),
    _r("asks:stuck", 2, None, "figure work find decide",
       _pre("can't cannot") + r"(?:figure out|work out|find|decide)\b"),
    _r("asks:stuck", 2, None, "idea", _pre("no") + r"idea (?:how|what|where|why|which)\b"),
    _r("asks:stuck", 2, None, "galere bloque seche perdue perdu", _pre("je") + r"(?:galere|bloque|seche)\b|"
       + _pre("suis") + r"perdue?\b"),
    _r("asks:stuck", 2, None, "komme", r"komme (?:nicht|da nicht) (?:weiter|klar)\b"),
    _kw("asks:stuck", 2, None, "verzweifle"),
    _r("asks:stuck", 2, None, "atascada atascado perdida perdido liada liado",
       _pre("estoy") + r"(?:atascad[ao]|perdid[ao]|liad[ao])\b"),
    _r("asks:stuck", 2, None, "se", _pre("no") + r"se (?:como|que|donde|cual)\b"),
    _r("asks:question-hashtag", 3, None,
       "askfedi askfediverse askmastodon askbluesky askbsky askalibrarian asklibrarians asklibrarian "
       "fedihelp helpneeded needhelp needadvice question questions frage fragen aide pregunta ayuda help "
       "askthefediverse librarianquestions",
       r"(?<=#)(?:askfedi|askfediverse|askmastodon|askbluesky|askbsky|askalibrarian|asklibrarians|"
       r"asklibrarian|fedihelp|helpneeded|needhelp|needadvice|question|questions|frage|fragen|aide|pregunta|"
       r"ayuda|help|askthefediverse|librarianquestions)\b"),
    # ----------------------------------------------------------------- French
    _r("asks:quelqu-un-sait", 3, "fr", "quelqu qqn qq1",
       r"(?:quelqu'un|quelqu un|qqn|qq1)(?: (?:ici|parmi vous|d'entre vous|de vous|aurait|a-t-il))? "
       r"(?:a|aurait|connait|connaitrait|sait|saurait|peut|pourrait|utilise|a-t-il|aurait-il|peut-il|"
       r"sait-il|serait|voudrait|a deja|travaille|gere|pour m'aider|d'entre vous)\b"),
    _r("asks:qui-pourrait-m-aider", 3, "fr", "qui",
       r"qui (?:saurait|pourrait|peut|aurait|connait|sait)(?: m'| me | nous )?(?:expliquer|aider|conseiller|"
       r"orienter|dire|renseigner|eclairer)?\b", q=True),
    _r("asks:vous-connaissez", 2, "fr", "vous tu",
       r"(?:vous|tu) (?:connaissez|connais|utilisez|utilises|avez|as|auriez|aurais|savez|sais|conseillez|"
       r"conseilles|recommandez|recommandes|faites|fais|gerez|geres|pensez|penses|procedez|traitez|"
       r"cataloguez|classez)\b", q=True),
    _r("asks:connaissez-vous", 3, "fr",
       "connaissez utilisez avez auriez savez sauriez pourriez pouvez conseillez recommandez pensez faites "
       "gerez cataloguez traitez organisez procedez classez connais utilises as aurais sais saurais pourrais "
       "peux conseilles recommandes penses fais geres",
       r"(?:connaissez|utilisez|avez|auriez|savez|sauriez|pourriez|pouvez|conseillez|recommandez|pensez|"
       r"faites|gerez|cataloguez|traitez|organisez|procedez|classez)-vous\b|"
       r"(?:connais|utilises|as|aurais|sais|saurais|pourrais|peux|conseilles|recommandes|penses|fais|"
       r"geres)-tu\b"),
    _r("asks:comment-faites-vous", 2, "fr", "comment",
       r"comment (?:faites|gerez|faire|fais|gerer|organisez|organiser|traitez|traiter|cataloguez|"
       r"cataloguer|classez|classer|procedez|proceder|vous|tu|je|on|est-ce|s'y prendre|convaincre)\b"),
    _r("asks:qu-utilisez-vous", 3, "fr", "utilisez est conseillez recommandez",
       r"(?<=qu')(?:utilisez|est-ce que vous|est-ce que tu|conseillez|recommandez)\b"),
    _r("asks:qu-utilisez-vous", 3, "fr", "pensez", r"(?<=qu'en )pensez\b"),
    _r("asks:qu-utilisez-vous", 3, "fr", "que", r"que (?:pensez|conseillez|recommandez|utilisez)\b"),
    _r("asks:qu-utilisez-vous", 3, "fr", "vous",
       r"vous en pensez quoi\b|vous (?:utilisez|conseillez|recommandez|prenez) quoi\b|vous faites comment\b"),
    _r("asks:qu-utilisez-vous", 3, "fr", "quoi", r"quoi utiliser\b"),
    _r("asks:merci-d-avance", 3, "fr", "merci",
       r"merci (?:d'avance|d avance|davance|par avance|a l'avance|beaucoup d'avance)\b"),
    _r("asks:au-secours", 3, "fr", "secours", _pre("au") + r"secours\b"),
    _r("asks:au-secours", 3, "fr", "aide", r"(?<=\ba l')aide\s*[!.]"),
    _r("asks:au-secours", 3, "fr", "besoin",
       rf"besoin (?:d'aide|(?:de |d')(?:vos |votre |quelques |un |une |d'un |d'une |petits? )?{_FR_N})\b"),
    _r("asks:je-cherche", 3, "fr", "cherche recherche", r"(?:(?<=\bje )|(?<=j'))(?:cherche|recherche)\b"),
    _r("asks:je-cherche", 3, "fr", "aimerais voudrais demande demandais",
       r"(?<=j')aimerais (?:savoir|avoir|trouver|connaitre|vos|votre)\b|"
       r"(?<=\bje )voudrais (?:savoir|avoir|vos|votre)\b|(?<=\bje me )demande(?:ais)? (?:si|comment|quel|quelle|ou)\b"),
    _r("asks:preneuse-de-conseils", 3, "fr", "preneur preneuse appel sollicite",
       rf"(?:preneu(?:r|se)|appel a|sollicite)(?: \w+){{0,3}}? {_FR_N}\b"),
    _r("asks:preneuse-de-conseils", 3, "fr", _noun_keys(_FR_NOUNS),
       r"{K}(?: \w+){0,4}? (?:bienvenue?s?|apprecie(?:e?s)?)\b"),
    _r("asks:des-collegues-ici", 3, "fr", "ici coin",
       r"ici\s*\?|(?<=\bdans le )coin(?: de \w+)?\s*\?"),
    _r("asks:quelle-est-la-meilleure", 2, "fr", "quel quelle quels quelles",
       r"quel(?:le)?s? (?:est|sont|serait|seraient) (?:la |le |les |votre |vos )?(?:meilleure?s?|plus simple|"
       r"bonne facon|bonne methode)\b"),
    _r("asks:y-a-t-il", 2, "fr", "y existe", r"y-? ?a-t-il\b|existe[- ]t[- ]il\b"),
    _r("asks:y-a-t-il", 2, "fr", "il", r"il (?:existe|y a) (?:un|une|des)\b", q=True),
    _r("asks:dois-je", 2, "fr", "dois puis peut faut doit est",
       r"(?:dois-je|puis-je|peut-on|faut-il|doit-on|est-il possible|est-ce qu'on|"
       r"est-ce (?:que )?(?:je|on|c'est|legal|possible|normal|grave)|"
       r"est-ce qu(?:e |')(?:vous|quelqu|qqn|tu|il y a|on|je))\b"),
    # ----------------------------------------------------------------- German
    _r("asks:weiss-jemand", 3, "de",
       "weiss kennt hat hatte kann konnte mochte nutzt benutzt verwendet macht arbeitet katalogisiert will "
       "darf sammelt betreut hast wurde erinnert",
       r"(?:weiss|kennt|hat|hatte|kann|konnte|mochte|nutzt|benutzt|verwendet|macht|arbeitet|katalogisiert|"
       r"will|darf|sammelt|betreut|hast|wurde|erinnert)(?: sich)?"
       r"(?: (?:hier|zufallig|vielleicht|von euch|eigentlich|schon|auch|mal|irgendwie|bei euch|damit))* "
       r"(?:jemand|jemandem|jmd|irgendwer|irgendjemand|wer|einer von euch|eine von euch)\b"),
    _r("asks:weiss-jemand", 3, "de", "jemand irgendwer wer",
       r"(?:jemand|irgendwer|wer)(?: \w+){0,2}? (?:eine? |einen )?(?:idee|ideen|tipp|tipps|empfehlung|"
       r"empfehlungen|erfahrung|erfahrungen|rat|ahnung|hinweis|hinweise|input|losung)\b(?! fur euch)"),
    _r("asks:weiss-jemand", 3, "de", "wer",
       r"wer (?:kennt sich|hat (?:erfahrung|schon|tipps|eine idee|ahnung)|nutzt|kann (?:mir|helfen)|weiss)\b"),
    _r("asks:kennt-ihr", 2, "de",
       "weisst wisst kennt habt hattet konnt konntet nutzt benutzt verwendet macht handhabt lost "
       "katalogisiert empfehlt wurdet arbeitet seid",
       r"(?:weisst|wisst|kennt|habt|hattet|konnt|konntet|nutzt|benutzt|verwendet|macht|handhabt|lost|"
       r"katalogisiert|empfehlt|wurdet|arbeitet|seid) (?:\w+ )?ihr\b"),
    _r("asks:sind-hier", 3, "de", "sind gibt",
       r"(?:sind|gibt es|gibt's) (?:hier|unter euch) (?:auch )?(?:\w+ ){0,3}?\w+", q=True),
    _r("asks:sind-hier", 3, "de", "was", r"was ist (?:der|die|das) (?:beste|einfachste|sinnvollste)\b"),
    _r("asks:ich-suche", 3, "de", "ich bin sind suchen suche",
       r"ich suche\b|(?:bin|sind) (?:\w+ )?auf der suche\b|(?:suche|suchen) nach\b|" + _SOS + r"suche\b"),
    _r("asks:bitte-um-tipps", 3, "de",
       "brauche brauchen brauchte benotige benotigen bitte bitten freue freu freuen dankbar wurde suche",
       r"(?:brauche|brauchen|brauchte|benotige|benotigen|bitte um|bitten um|freue mich uber|freu mich uber|"
       r"freuen uns uber|dankbar fur|dankbar uber|wurde mich (?:sehr )?uber|suche)(?: \w+){0,3}? "
       rf"{_DE_N}\b"),
    _r("asks:bitte-um-tipps", 3, "de", _noun_keys(_DE_NOUNS),
       r"{K}(?: \w+){0,2}? (?:gesucht|willkommen|erwunscht|gerne gesehen|bitte)\b"),
    _r("asks:hilfe", 3, "de", "hilfe", _SOS + r"hilfe\s*[!,:?]|hilfe (?:gesucht|bitte)\b"),
    _r("asks:hilfe", 3, "de", "brauche", r"brauche (?:\w+ ){0,2}?hilfe\b"),
    _r("asks:danke-im-voraus", 3, "de", "danke vielen dank merci",
       r"(?:danke|vielen dank|dank|merci)(?: euch| schon| ihnen)* (?:im voraus|vorab)\b"),
    _r("asks:wie-macht-ihr", 2, "de", "wie",
       r"wie (?:macht|handhabt|lost|organisiert|katalogisiert|kann|konnen|soll|sollte|mache|machen|"
       r"handhabe|handhaben|regelt|regeln|verwaltet|verwalten|geht man|gehe ich|gehen wir|ihr|geht ihr)\b"),
    _r("asks:wie-macht-ihr", 2, "de", "was",
       r"was (?:nutzt|macht|verwendet|empfehlt|haltet|denkt|meint|wurdet|sollte|soll|kann|mache|tun|tut) "
       r"(?:ihr|ich|man|wir)\b"),
    _r("asks:welche-nutzt-ihr", 3, "de", "welche welchen welcher welches welchem",
       r"welche[nmrs]? (?:\w+ ){0,3}?(?:nutzt|verwendet|empfehlt|benutzt|habt|kennt|wurdet|nehmt|"
       r"katalogisiert) ihr\b"),
    _r("asks:gibt-es", 2, "de", "gibt", r"gibt(?: es|'s| s)\b", q=True),
    _r("asks:gibt-es", 2, "de", "darf kann soll muss sollte konnte",
       r"(?:darf|kann|soll|muss|sollte|konnte) (?:ich|man|wir)\b", q=True),
    # ---------------------------------------------------------------- Spanish
    _r("asks:alguien-sabe", 3, "es", "alguien alguno alguna",
       r"(?:alguien|algun[oa] de (?:vosotr[oa]s|ustedes|aqui|los presentes))"
       r"(?: (?:aqui|de aqui|por aqui|mas|que|me|nos))* "
       r"(?:sabe|sabria|conoce|conoceria|tiene|tendria|ha|habra|usa|utiliza|puede|podria|recomienda|"
       r"trabaja|maneja|conocera|me|nos|tuvo|uso|hizo|hace)\b"),
    _r("asks:me-podeis", 3, "es",
       "podeis pueden podriais podrian puedes podrias puede podria recomendais recomiendan recomiendas "
       "aconsejais aconsejan ayudais ayudan echais echan orientais orientan sugieren sugeris decis dicen",
       _pre("me nos") + r"(?:podeis|pueden|podriais|podrian|puedes|podrias|puede|podria|recomendais|"
       r"recomiendan|recomiendas|aconsejais|aconsejan|ayudais|ayudan|echais|echan|orientais|orientan|"
       r"sugieren|sugeris|decis|dicen)\b"),
    _kw("asks:sabeis", 2, "es",
        "sabeis conoceis teneis usais utilizais recomendais habeis gestionais haceis catalogais opinais "
        "pensais trabajais manejais"),
    _r("asks:sabeis", 2, "es", "parece", _pre("os les") + r"parece\b"),
    _kw("asks:sabeis", 2, "es", "saben conocen tienen usan utilizan recomiendan opinan", q=True),
    _r("asks:busco", 3, "es", "busco estoy ando estamos",
       r"busco\b|(?:estoy|ando) buscando\b|estamos buscando (?:un|una|algun|alguna|informacion|ideas)\b"),
    _r("asks:pido-consejos", 3, "es",
       "necesito necesitamos pido agradeceria agradeceriamos agradezco agradece agradecen acepto agradecere "
       "quisiera gustaria",
       r"(?:necesito|necesitamos|pido|agradeceria|agradeceriamos|agradezco|(?<=\bse )agradecen?|acepto|"
       r"agradecere|quisiera|(?<=\bme )gustaria (?:tener|conocer|saber|recibir|leer))"
       rf"(?: \w+){{0,3}}? {_ES_N}\b"),
    _r("asks:pido-consejos", 3, "es", _noun_keys(_ES_NOUNS),
       r"{K}(?: \w+){0,3}? (?:bienvenid[oa]s?|se agradecen?|agradecid[oa]s?)\b"),
    _r("asks:ayuda", 3, "es", "ayuda", _SOS + r"ayuda\s*[!,:.?]"),
    _kw("asks:ayuda", 3, "es", "socorro"),
    _r("asks:ayuda", 3, "es", "necesito pido", r"(?:necesito (?:\w+ ){0,2}?|pido )ayuda\b"),
    _r("asks:gracias-de-antemano", 3, "es", "gracias",
       r"gracias (?:de antemano|por adelantado|anticipadas|desde ya|por anticipado)\b"),
    _r("asks:que-usais", 3, "es", "que como",
       r"(?:que|como) (?:\w+ ){0,2}?(?:usais|usan|utilizais|utilizan|recomendais|recomiendan|opinais|"
       r"opinan|os parece|les parece|hariais|harian|haceis|hacen|gestionais|gestionan|manejais|manejan|"
       r"organizais|organizan|catalogais|catalogan|lo haceis|lo hacen)\b"),
    _r("asks:hay-algun", 2, "es", "hay existe", r"(?:hay|existe) (?:algun|alguna|algo|un|una|algunos|algunas)\b"),
    _r("asks:hay-algun", 2, "es", "puedo debo deberia se es tengo",
       r"(?:puedo|debo|deberia|se puede|es legal|es posible|tengo que)\b", q=True),
    _r("asks:por-aqui", 3, "es", "aqui", _pre("por") + r"aqui\b", q=True),
    _r("asks:por-aqui", 3, "es", "cual cuales",
       r"cual(?:es)? (?:es|son|seria) (?:la |el |los |las )?(?:mejor(?:es)?|forma mas|manera mas)\b"),
    # ------------------------------------------------- polite and informal asks (any of the four)
    _r("asks:polite-ask", 3, "en", "love like",
       _pre("i'd i_would would we'd we_would") + r"(?:love|like) (?:to )?(?:hear|borrow|see|know|learn|read|talk|"
       r"chat|connect|swap|get|find|have|pick)\b"),
    _r("asks:polite-ask", 3, "en", "be",
       _pre("i'd i_would i'll we'd") + r"be (?:so |really |very |most |extremely |hugely )?(?:grateful|thankful)\b"),
    _r("asks:polite-ask", 3, "en", "use",
       _pre("could could_really could_definitely") + r"use (?:some|a|any|an|your)\b"),
    _r("asks:polite-ask", 3, "en", "second fresh extra sense",
       r"(?:second|fresh|extra) (?:pair of )?eyes\b|sense check\b"),
    _r("asks:polite-ask", 3, "en", "curious", r"curious (?:how|what|whether|if|which|about|to know)\b"),
    _r("asks:polite-ask", 3, "en", "just", r"(?<=\bis it )just me\b"),
    _r("asks:polite-ask", 3, "en", "plea share", r"plea\s*:|(?<=\bplease )share\b|(?<=\bpls )share\b"),
    # ------------------------------------------------------------------ Dutch
    _r("asks:weet-iemand", 3, "nl", "weet heeft kent kan zou gebruikt wil",
       r"(?:weet|heeft|kent|kan|zou|gebruikt|wil) (?:hier )?iemand\b"),
    _r("asks:weet-iemand", 3, "nl", "iemand", r"iemand (?:hier )?(?:ervaring|tips|een idee|die)\b"),
    _r("asks:weet-iemand", 3, "nl", "wie", r"wie (?:kan|wil) (?:mij|me|ons) (?:helpen|uitleggen|vertellen)\b"),
    _r("asks:hoe-doen-jullie", 3, "nl", "hoe wat welke welk",
       r"(?:hoe|wat|welke?) (?:\w+ ){0,3}?(?:doen|gaan|regelen|krijgen|gebruiken|zouden|raden|hebben|organiseren|"
       r"houden|pakken) jullie\b"),
    _r("asks:hoe-doen-jullie", 3, "nl", "hebben kennen weten gebruiken", r"(?:hebben|kennen|weten|gebruiken) jullie\b"),
    _r("asks:ik-zoek", 3, "nl", "zoek", _pre("ik") + r"zoek\b|(?<=\bop )zoek naar\b"),
    _r("asks:ik-zoek", 3, "nl", "tips advies ideeen suggesties hulp ervaringen",
       r"(?:tips|advies|ideeen|suggesties|hulp|ervaringen)(?: \w+){0,6}? (?:welkom|gezocht|gevraagd)\b|"
       r"(?:advies|hulp|tips) gezocht\b"),
    _r("asks:ik-zoek", 3, "nl", "graag benieuwd",
       r"(?<=\bzou )graag (?:horen|weten|zien)\b|(?<=\bhoor )graag\b|" + _pre("ben zijn") +
       r"benieuwd (?:hoe|naar|of|wat|welke)\b"),
    # ---------------------------------------------------------------- Italian
    _r("asks:qualcuno-sa", 3, "it", "qualcuno",
       r"qualcuno(?: di voi| qui)? (?:sa|ha|conosce|usa|mi|potrebbe|puo|conoscerebbe|utilizza|usa)\b"),
    _r("asks:qualcuno-sa", 3, "it", "chi", r"chi (?:mi|ci) (?:aiuta|sa dire|puo aiutare|spiega)\b"),
    _r("asks:cerco", 3, "it", "cerco cercando", r"cerco\b|(?<=\bsto )cercando\b"),
    _r("asks:come-fate", 3, "it", "come",
       r"come (?:\w+ ){0,2}?(?:fate|gestite|organizzate|catalogate|calcolate|usate|trattate|vi organizzate)\b"),
    _kw("asks:come-fate", 3, "it", "avete sapete conoscete consigliate", q=True),
    _r("asks:come-fate", 3, "it", "potreste", r"potreste (?:consigliar|aiutar|dir|spiegar)\w*"),
    _r("asks:mi-piacerebbe", 3, "it", "piacerebbe vorrei curiosa curioso",
       r"(?<=\bmi )piacerebbe (?:sapere|conoscere|avere|leggere|capire)\b|vorrei (?:sapere|capire|chiedere)\b|"
       r"curios[ao] di sapere\b"),
    _r("asks:mi-piacerebbe", 3, "it", "aiuto", _SOS + r"aiuto\s*[!:,.]"),
    # ------------------------------------------------------------- Portuguese
    _r("asks:alguem-sabe", 3, "pt", "alguem",
       r"alguem(?: aqui| ja)? (?:sabe|conhece|tem|usa|ja|indica|pode|recomenda|poderia|utiliza)\b"),
    _r("asks:procuro", 3, "pt", "procuro procura", r"procuro\b|(?<=\ba )procura de\b"),
    _r("asks:como-voces", 3, "pt", "como",
       r"como (?:\w+ ){0,2}?(?:voces|vcs)\b|como (?:fazem|lidam|organizam|catalogam|gerem)\b"),
    _r("asks:como-voces", 3, "pt", "voces",
       r"voces (?:tem|recomendam|usam|conhecem|indicam|sabem|utilizam)\b"),
    _r("asks:gostaria", 3, "pt", "gostaria curiosidade",
       r"gostaria (?:muito )?de (?:saber|ouvir|conhecer|ter|receber)\b|curiosidade (?:em|de) saber\b"),
    _r("asks:gostaria", 3, "pt", "preciso",
       r"preciso (?:de )?(?:ajuda|indicacoes|dicas|sugestoes|ideias|conselhos)\b"),
    # ------------------------------------------------------ Swedish and Danish
    _r("asks:vet-nagon", 3, "sv", "vet har kan finns kanner anvander nagon",
       r"(?:vet|har|kan|finns|kanner|anvander) (?:det )?nagon\b|nagon som\b"),
    _r("asks:vet-nagon", 3, "sv", "hur", r"hur (?:\w+ ){0,2}?ni\b"),
    _r("asks:vet-nagon", 3, "sv", "letar soker", _pre("jag vi") + r"(?:letar|soker)\b"),
    _r("asks:vet-nagon", 3, "sv", "tacksamt garna",
       r"tacksamt emot\b|(?<=\bskulle )garna (?:hora|veta)\b"),
    _r("asks:ved-nogen", 3, "da", "ved kender bruger har er nogen",
       r"(?:ved|kender|bruger|har) nogen\b|er der nogen\b"),
    _r("asks:ved-nogen", 3, "da", "hvordan",
       r"hvordan (?:handterer|far|gor|bruger|organiserer|klarer) i\b"),
    # ---------------------------------------------------- Catalan and Polish
    _r("asks:algu-sap", 3, "ca", "algu", r"algu (?:sap|coneix|te|fa servir|utilitza)\b"),
    _r("asks:algu-sap", 3, "ca", "com", r"com (?:ho )?(?:feu|gestioneu|organitzeu)\b"),
    _r("asks:czy-ktos", 3, "pl", "czy", r"czy (?:\w+ )?ktos\b"),
    _r("asks:czy-ktos", 3, "pl", "jak", r"jak (?:\w+ ){0,2}?(?:radzicie|robicie|organizujecie)\b"),
)

# --------------------------------------------------------------------------
# Not-a-request rules.  Weights say how strongly they argue against.
# --------------------------------------------------------------------------

_NOT_RULES: tuple[_Rule, ...] = (
    # Offers of help: they name the same problems as requests, but give rather than ask.
    _r("not:help-offer", 4, None, "i ping dm message email write offering",
       r"(?<=\bi )can help\b|(?:ping|dm|message|email|write to) me\b|offering (?:free )?(?:help|mentoring)\b"),
    _r("not:help-offer", 4, None, "je ecrivez faites", _pre("je") + r"peux (?:aider|donner un coup de main|partager)\b"
       r"|ecrivez-moi\b|faites-moi signe\b"),
    _r("not:help-offer", 4, None, "je peux", r"(?:je )?peux (?:aider|donner un coup de main)\b"),
    _r("not:help-offer", 4, None, "helfe meldet melde schreibt",
       r"helfe (?:gern|gerne)\b|meldet euch\b|melde dich\b|schreibt mir\b|(?<=\bkann sich )gern\b"),
    _r("not:help-offer", 4, None, "escribidme ofrezco", r"escribidme\b|(?<=\bme )ofrezco\b"),
    _r("not:help-offer", 4, None, "hulp help stuur", r"(?<=\biemand )hulp nodig\b|(?<=\bik )help graag\b|"
       r"stuur me (?:gerust )?een (?:bericht|berichtje)\b"),
    _r("not:help-offer", 4, None, "bisogno scrivetemi", r"(?<=\bqualcuno ha )bisogno\b|scrivetemi\b"),
    _r("not:help-offer", 4, None, "precisar chamar", r"(?<=\balguem )precisar\b|(?<=\bme )chamar\b"),
    _r("not:help-offer", 4, None, "behover hor", r"(?<=\bnagon )behover\b|hor garna av\b"),
    # Sarcasm and jokes: the question mark is a punchline.
    _r("not:sarcasm", 4, None, "what cosa pode wat asking see love living truly",
       r"what could possibly go wrong\b|cosa potrebbe andare storto\b|(?<=\bo que )pode dar errado\b|"
       r"wat kan er misgaan\b|asking rhetorically\b|see myself out\b|love that for me\b|living the dream\b|"
       r"truly efficient\b"),
    _r("not:did-you-know", 6, None, "wist sapevate sapevi sabia visste vidste sabieu wiesz",
       r"wist je dat\b|(?<=\blo )sapevate\b|sapevi che\b|(?<=\bvoce )sabia\b|sabia que\b|visste du\b|vidste du\b|"
       r"sabieu que\b|(?<=\bczy )wiesz\b"),
    _kw("not:quiz", 3, None, "quizvraag quizfrage raadsel indovinello adivinha adivinanza riddle puzzle"),
    _r("not:promo", 2, None, "link essai prova prueba probeer offerte preventivo offert tilbud wycene",
       r"link in bio\b|essai gratuit\b|prova gratis\b|prueba (?:\w+ ){0,2}?gratis\b|probeer (?:het )?gratis\b|"
       r"(?:offerte|preventivo|offert|tilbud|wycene)\b"),
    # Rhetorical "did you know" openers in four languages.
    _r("not:did-you-know", 6, None, "did", r"did you know\b"),
    _kw("not:did-you-know", 6, None, "dyk"),
    _r("not:did-you-know", 6, None, "saviez", r"saviez(?:-| )vous\b"),
    _r("not:did-you-know", 6, None, "wusstet wusstest wussten", r"wusstet ihr\b|wusstest du\b|wussten sie\b"),
    _r("not:did-you-know", 6, None, "gewusst", _pre("schon") + r"gewusst\b"),
    _r("not:did-you-know", 6, None, "sabias sabiais sabian sabeis", r"sab(?:ias|iais|ian|eis) que\b"),
    _r("not:did-you-know", 6, None, "fun fait", r"fun fact\b|fait du jour\b"),
    # Questions that do not want an answer.
    _r("not:rhetorical", 4, None, "who whos",
       r"who(?:'s| is| else)(?: else)? (?:ready|excited|loves?|loving|hates?|enjoys?|with me|joining|coming|"
       r"celebrating|looking forward|counting|survived|else|also|feeling)\b|who (?:else|knew|doesn't|needs)\b"),
    _r("not:rhetorical", 4, None, "guess believe", r"guess what\b|" + _pre("can_you") + r"(?:guess|believe)\b"),
    _r("not:rhetorical", 4, None, "ever", r"ever wondered\b|" + _pre("there") + r"ever been\b"),
    _r("not:rhetorical", 4, None, "isn wasn aren ain", r"(?:isn't|wasn't|aren't|ain't) (?:it|that|this|they)\b"),
    _r("not:rhetorical", 4, None, "don", r"don't you (?:love|just love|hate|think)\b"),
    _r("not:rhetorical", 4, None, "am", r"am i right\b"),
    _r("not:rhetorical", 4, None, "est", r"(?<=n')est-ce pas\b"),
    _r("not:rhetorical", 4, None, "ist war", r"(?:ist|war) (?:es|das) nicht\b"),
    _r("not:rhetorical", 4, None, "genial bonito increible", _pre("no_es") + r"(?:genial|bonito|increible)\b"),
    _r("not:rhetorical", 4, None, "talk take", _pre("can_we can_we_just") + r"(?:talk|take a moment) about\b"),
    _r("not:rhetorical", 4, None, "it", _pre("is") + r"it (?:\w+ ){1,2}yet\b"),
    _r("not:rhetorical", 4, None, "where", r"where (?:did|does) (?:the|this|my) (?:\w+ )?(?:go|went)\b"),
    _r("not:rhetorical", 4, None, "how",
       r"how many \w+(?: \w+)? does it take\b|"
       r"how (?:cool|awesome|great|amazing|lovely|exciting|fun|wild|cute) is (?:that|this)\b"),
    _r("not:rhetorical", 4, None, "anything", _pre("is_there") + r"anything (?:better|more|nicer|worse)\b"),
    _r("not:rhetorical", 4, None, "what whats", r"what(?:'s| is|s) (?:better than|not to love)\b"),
    _r("not:rhetorical", 4, None, "waiting", _pre("what_are_you") + r"waiting for\b"),
    _r("not:rhetorical", 4, None, "gibt", r"gibt es (?:etwas|nichts) (?:schoneres|besseres|tolleres)\b"),
    _r("not:rhetorical", 4, None, "quoi", r"quoi de (?:plus|mieux)\b"),
    _r("not:rhetorical", 4, None, "quelque rien", r"(?:quelque chose|rien) de plus\b"),
    _r("not:rhetorical", 4, None, "hay", r"hay (?:algo|nada) (?:mejor|mas bonito)\b"),
    _r("not:rhetorical", 4, None, "qui",
       r"qui d'autre\b|qui est (?:pret|partant|motive|chaud)|qui (?:aime|adore)\b"),
    _r("not:rhetorical", 4, None, "wer", r"wer freut sich\b|wer hat (?:auch )?lust\b|wer (?:liebt|mag) |wer noch\b"),
    _r("not:rhetorical", 4, None, "quien", r"quien (?:mas|se apunta|no)\b"),
    # A question the writer answers at once: "Best job in the world? Yes."
    _r("not:rhetorical", 4, None, "?",
       r"\?\s*(?:yes|no|nope|yep|yup|of course|absolutely|definitely|obviously|oui|non|bien sur|evidemment|ja|"
       r"nein|naturlich|klar|si|claro|por supuesto)\s*[.!]"),
    # "Relatable" questions share a feeling rather than ask for anything; they
    # weigh less than rhetoric because a real question often follows them
    # ("Vous aussi vous galérez avec PMB ? Comment faites-vous ?").
    _r("not:relatable", 2, None, "ever know", _pre("do_you") + r"ever (?:just )?\w+|you know (?:that|the) feeling\b"),
    _r("not:relatable", 2, None, "aussi", _pre("vous toi") + r"aussi\b"),
    _r("not:relatable", 2, None, "kennt", r"kennt ihr das(?: auch)?(?: gefuhl)?\s*[?,!]|kennt ihr das gefuhl\b"),
    _r("not:relatable", 2, None, "sensacion", _pre("esa") + r"sensacion\b"),
    _r("not:rhetorical", 4, None, "anyone anybody",
       r"(?:anyone|anybody) else (?:love|loves|loving|excited|ready|obsessed|counting|celebrating|enjoying|"
       r"adore|adores|feel|feels|feeling)\b"),
    # A question used as an advertising hook: "Want to learn MARC? Join our webinar".
    _r("not:promo-hook", 5, None, "?",
       r"\?\s*(?:(?:then|so|well|if so|yes|oui|dann|entonces),? )?(?:join|register|sign up|check out|"
       r"discover|download|don't miss|tune in|grab|click|subscribe|enrol|enroll|learn more|read more|"
       r"read our|come along|come and|come join|we've got you|we have (?:just )?the|look no further|"
       r"you'll love|you need|find out|save your (?:seat|spot|place)|book (?:your|now)|get started|"
       r"try our|meet (?:us|our)|introducing|rejoignez|inscrivez|decouvrez|venez|lisez|telechargez|"
       r"ne manquez|participez|retrouvez|jetzt|meldet euch|melden sie|entdeckt|entdecke|kommt|schaut|"
       r"inscribete|inscribase|apuntate|descubre|no te pierdas|participa|unete)\b"),
    _r("not:promo-hook", 5, None,
       "need want looking struggling tired new interested curious ready wondering thinking planning",
       _SOS + r"(?:need|want|looking for|struggling with|tired of|new to|interested in|curious about|"
       r"ready to|wondering|thinking about|planning)\b[^.!?\n]{0,80}\?\s*(?:we|we've|we're|our|this|it's|"
       r"then|here's|you|look|meet|introducing|let|the answer|say hello)\b"),
    # Job adverts.
    _r("not:hiring", 6, None, "hiring", _pre("we're we_are now") + r"hiring\b|hiring:"),
    _r("not:hiring", 6, None, "job",
       r"job (?:opening|opportunity|alert|posting|ad|advert|vacancy)\b"),
    _r("not:hiring", 6, None, "apply", r"apply (?:by|now|here|today|before|online|via|at|through)\b"),
    _r("not:hiring", 6, None, "application applications",
       r"applications? (?:close|closing|deadline|are open|open|due)\b"),
    _r("not:hiring", 6, None, "team", _pre("join_our join_the") + r"team\b"),
    _r("not:hiring", 6, None, "position role post vacancy",
       r"(?:position|role|post|vacancy) (?:available|open|is open|is now open)\b"),
    _r("not:hiring", 6, None, "looking seeking recruiting",
       _pre("we're we_are") + r"(?:looking for|seeking|recruiting) (?:an?|our|two|someone)(?: \w+){0,2}? "
       r"(?:librarian|archivist|assistant|colleague|manager|officer|person|candidate|coordinator|"
       r"technician|cataloguer|cataloger|volunteer|specialist|intern)\b"),
    _kw("not:hiring", 6, None,
        "recrutons recrutement postulez stellenangebot stellenausschreibung stellenanzeige bewerbungsfrist "
        "bewerbungsschluss vacante"),
    _r("not:hiring", 6, None, "recrute", _pre("on") + r"recrute\b|recrute (?:un|une)\b"),
    _r("not:hiring", 6, None, "emploi", r"(?<=offre d')emploi\b"),
    _r("not:hiring", 6, None, "poste", r"poste (?:a pourvoir|de (?:documentaliste|bibliothecaire))"),
    _r("not:hiring", 6, None, "suchen stellen",
       _pre("wir") + r"(?:suchen (?:eine|einen|ab|zum|zur|dich|sie|verstarkung|ein)|stellen ein)\b"),
    _r("not:hiring", 6, None, "stelle bewerben", r"stelle (?:frei|zu besetzen|als)\b|" + _pre("jetzt") + r"bewerben\b"),
    _r("not:hiring", 6, None, "oferta", r"oferta de (?:empleo|trabajo)\b"),
    _r("not:hiring", 6, None, "buscamos", r"buscamos (?:un|una|a|bibliotecari|documentalista)"),
    _r("not:hiring", 6, None, "busca", _pre("se") + r"busca\b"),
    _r("not:hiring", 6, None, "convocatoria", r"convocatoria (?:de|para) (?:plaza|empleo|puesto)"),
    _r("not:hiring", 6, None, "envia envianos", r"envia(?:nos)? (?:tu )?cv\b"),
    _r("not:hiring", 6, None, "plaza", r"plaza de\b"),
    # Advertising an event (sign-up language) argues harder than mentioning one:
    # "Did anyone record yesterday's webinar?" is still a request.
    _kw("not:event-advert", 2, None,
        "register registration signup rsvp ticket tickets inscriptions inscription inscrivez inscrire "
        "anmeldung anmelden inscribete inscripcion inscripciones"),
    _r("not:event-advert", 2, None, "sign join save seats spots places rejoignez quedan reste restent",
       r"sign up\b|join us\b|save the date\b|(?:seats|spots|places) (?:are )?(?:limited|left|available)\b|"
       r"rejoignez-nous\b|quedan plazas\b|(?:reste|restent) (?:quelques |des )?places\b"),
    _kw("not:event-mention", 1, None,
        "webinar webinars workshop workshops conference webinaire webinaires fortbildung veranstaltung tagung "
        "jornada jornadas taller livestream meetup"),
    _r("not:event-mention", 1, None, "seminario online panel",
       r"seminario web\b|online session\b|panel (?:discussion|on)\b"),
    # Promotion of a blog post, podcast episode, article...
    _r("not:blog-promo", 3, None, "new", r"new (?:blog )?(?:post|article|episode|video|issue|edition)\b"),
    _r("not:blog-promo", 3, None, "blog",
       _pre("on_the on_my on_our to_the to_my to_our en_el en_mi sur_le sur_mon im auf_dem auf_meinem "
            "in_unserem") + r"blog\b"),
    _r("not:blog-promo", 3, None, "read", r"read (?:more|it here|the full|the whole|all about)\b"),
    _r("not:blog-promo", 3, None, "link", r"link in (?:bio|profile)\b"),
    _r("not:blog-promo", 3, None, "latest", _pre("our") + r"latest\b"),
    _r("not:blog-promo", 3, None, "post episode article issue edition video",
       _pre("in_this in_today's in_our_latest") + r"(?:post|episode|article|issue|edition|video)\b"),
    _r("not:blog-promo", 3, None, "nouvel billet lire",
       r"nouvel (?:article|episode)\b|(?<=nouveau )billet\b|lire la suite\b|(?<=a )lire (?:ici|sur)\b"),
    _r("not:blog-promo", 3, None, "neuer neue zum",
       r"neuer (?:blog)?(?:beitrag|artikel|post)\b|neue (?:folge|episode|ausgabe)\b|zum (?:artikel|beitrag)\b"),
    _kw("not:blog-promo", 3, None, "weiterlesen"),
    _r("not:blog-promo", 3, None, "nueva nuevo leer",
       r"nueva entrada\b|nuevo (?:post|articulo|episodio)\b|leer mas\b"),
    # Product, newsletter and call-to-action language.
    _kw("not:promo", 2, None, "newsletter podcast subscribe sponsored survey discount blogpost contactanos"),
    _r("not:promo", 2, None, "trial demo off check blog",
       r"(?<=free )trial\b|(?<=book a )demo\b|(?<=% )off\b|check out (?:our|my|the new)\b|blog post\b"),
    _r("not:promo", 2, None, "new latest free upcoming online next annual",
       _pre("our") + r"(?:new|latest|free|upcoming|online|next|annual)\b"),
    _r("not:promo", 2, None, "notre nos unser unsere unseren unserem nuestro nuestra nuestros nuestras",
       r"notre (?:nouvelle?|prochaine?|dernier|derniere)\b|nos (?:nouveaux|nouvelles|prochains|prochaines)\b|"
       r"unser(?:e|en|em)? (?:neue|neuer|neues|neuen|nachste|nachsten|kostenlose)\b|"
       r"nuestr[oa]s? (?:nuev[oa]s?|proxim[oa]s?|ultim[oa]s?)\b"),
    _r("not:promo", 2, None, "touch contact talk speak reach dm email message find learn visit help",
       r"(?<=get in )touch\b|contact us\b|(?:talk|speak|reach out) to us\b|(?:dm|email|message) us\b|"
       r"find out more\b|learn more\b|visit our\b|(?<=we can )help\b"),
    _r("not:promo", 2, None, "contactez kontaktieren", r"contactez-nous\b|kontaktieren sie uns\b"),
    # Announcements and reminders.
    _r("not:announcement", 2, None, "now out just published launched released",
       r"now (?:available|open|live|out)\b|out now\b|just (?:launched|published|released)\b|"
       r"(?:published|launched|released|out) (?:today|this week)\b"),
    _r("not:announcement", 2, None, "excited thrilled delighted proud pleased",
       r"(?:excited|thrilled|delighted|proud|pleased) to (?:announce|share|present|launch|welcome|be)\b"),
    _kw("not:announcement", 2, None, "announce announcing announcement reminder complace"),
    _r("not:announcement", 2, None, "heureux heureuse heureuses ravi ravie ravis",
       r"heureu(?:x|se|ses) de vous (?:annoncer|presenter)\b|ravie?s? de vous\b"),
    _r("not:announcement", 2, None, "freuen sofort disponible estamos",
       _pre("wir") + r"freuen uns\b|" + _pre("ab") + r"sofort\b|" + _pre("ya") + r"disponible\b|"
       r"estamos (?:encantad|felices)"),
    _r("not:announcement", 2, None, "don oubliez vergessen olvides olvideis olviden",
       r"don't forget\b|(?<=n')oubliez pas\b|" + _pre("nicht") + r"vergessen\b|"
       + _pre("no") + r"olvid(?:es|eis|en)\b"),
    # Quizzes and votes.
    _kw("not:quiz", 3, None, "quiz quizz quizzes quiztime trivia devinette ratsel adivina acertijo"),
    _r("not:quiz", 3, None, "guess answer answers test well rate vote cast",
       r"guess (?:the|which|what|who|how)\b|answers? (?:tomorrow|below|in the comments|on monday|next week)\b|"
       r"test your\b|(?<=how )well do you know\b|rate mal\b|vote (?:below|now|here)\b|cast your vote\b"),
    # Thanks after help, and "solved" follow-ups.
    _r("not:thanks-after-help", 4, None, "thanks thank thx",
       r"(?:thanks|thank you|thx)(?: so much| again| all| everyone| to everyone| to all|"
       r" to (?:all )?(?:of )?(?:you|the \w+|those|everybody)| y'all| folks| friends)*,? "
       r"(?:who|for (?:all )?(?:the|your|all the|so many|those|these)(?: \w+)? (?:tips|advice|suggestions|"
       r"recommendations|recs|help|replies|answers|responses|input|ideas|pointers|feedback|thoughts|boosts))\b"),
    _r("not:thanks-after-help", 4, None, "solved resolved", r"(?:solved|resolved)\s*[!:.]"),
    _r("not:thanks-after-help", 4, None, "update", r"update: (?:we|i|it|solved|fixed|sorted)\b"),
    _r("not:thanks-after-help", 4, None, "went ended decided",
       _pre("we i") + r"(?:went|ended up going|decided to go) with\b"),
    _r("not:thanks-after-help", 4, None, "merci",
       r"merci (?:a (?:tous|toutes|vous|toutes et a tous|celles et ceux)|(?:beaucoup )?pour (?:vos|les|tous vos|"
       r"toutes vos)(?: \w+)? (?:conseils|reponses|idees|suggestions|retours|recommandations|pistes|messages))\b"),
    _kw("not:thanks-after-help", 4, None, "resolu gelost resuelto"),
    _r("not:thanks-after-help", 4, None, "danke vielen herzlichen",
       r"(?:danke|vielen dank|herzlichen dank|danke schon)(?: euch| euch allen| an alle| nochmal)?,? "
       r"fur (?:die|eure|all die|eure vielen|alle|die vielen)(?: \w+)? (?:tipps|hinweise|antworten|"
       r"ruckmeldungen|empfehlungen|ideen|hilfe|vorschlage)\b"),
    _r("not:thanks-after-help", 4, None, "gracias",
       r"gracias(?: a (?:todos|todas|todes))?,? (?:por (?:los|las|vuestros|vuestras|sus|todos los|todas las|"
       r"tantas|tantos)(?: \w+)? (?:consejos|respuestas|ideas|sugerencias|recomendaciones|mensajes|ayuda)|"
       r"a (?:todos|todas|quienes))\b"),
    # The writer is giving advice, offering something or sharing a resource.
    _r("not:sharing-advice", 3, None,
       "tip tips advice recommendation recommendations suggestion suggestions two 2 workflow process approach",
       _pre("my my_top my_best my_favourite my_favorite my_number_one")
       + r"(?:tips?|advice|recommendations?|suggestions?|two cents|2 cents|workflow|process|approach)\b"),
    _r("not:sharing-advice", 3, None, "here heres",
       r"here(?:'s| is| are|s) (?:my|some|a few|a list|our|the list|\d+)(?: \w+)? (?:tips|ideas|"
       r"recommendations|favou?rites|picks|resources|lessons|thoughts|takeaways|slides|notes|steps|tools|of)\b"),
    _r("not:sharing-advice", 3, None, "top", r"top (?:\d+|tip)\b"),
    _r("not:sharing-advice", 3, None, "tips ways things reasons lessons mistakes",
       r"(?<=\d )(?:tips|ways|things|reasons|lessons|mistakes)\b"),
    _r("not:sharing-advice", 3, None, "pro", r"pro ?tip\b"),
    _kw("not:sharing-advice", 3, None, "protip psa fyi thread comparto"),
    # "TIL" opens a post or a sentence; "til" inside one is the Danish/Norwegian/Swedish "to".
    _r("not:sharing-advice", 3, None, "til",
       _SOS + r"til\b(?=\s*(?::|-|that\b|the\b|about\b|how\b|i\b|you\b|a\b|an\b|our\b|why\b|what\b))"),
    _r("not:sharing-advice", 3, None, "learned", _pre("today_i") + r"learned\b"),
    _r("not:sharing-advice", 3, None, "case", _pre("in") + r"case (?:anyone|it helps|you|it's useful)\b"),
    _r("not:sharing-advice", 3, None, "anyone",
       _pre("for") + r"anyone (?:who|looking|interested|curious|wondering)\b|"
       + _pre("if") + r"anyone (?:needs|wants|is interested|is looking)\b"),
    _r("not:sharing-advice", 3, None, "happy giving free grabs",
       r"happy to (?:share|help|send)\b|giving away\b|free to (?:a )?good home\b|(?<=up for )grabs\b"),
    _r("not:sharing-advice", 3, None, "1", r"1/(?:\d+)?(?=\s|$)"),
    _r("not:sharing-advice", 3, None, "recommend suggest",
       _pre("i i_highly i_strongly i_would i'd i_can highly") + r"recommend\b|" + _pre("i'd") + r"suggest\b"),
    _r("not:sharing-advice", 3, None, "hot unpopular", r"hot take\b|unpopular opinion\b"),
    _r("not:sharing-advice", 3, None, "voici mes astuce",
       r"voici (?:mes|quelques|\d+|ma|notre|nos)\b|mes (?:conseils|astuces|recommandations)\b|astuce du jour\b"),
    _r("not:sharing-advice", 3, None, "recommande conseille partage",
       _pre("je je_vous") + r"(?:recommande|conseille|partage)\b"),
    _r("not:sharing-advice", 3, None, "peut", _pre("si_ca si_cela") + r"peut (?:aider|servir)\b"),
    _r("not:sharing-advice", 3, None, "celles ceux", _pre("pour") + r"(?:celles et ceux|ceux) qui\b"),
    _r("not:sharing-advice", 3, None, "mein meine", r"meine? (?:tipps?|empfehlung(?:en)?|rat)\b"),
    _r("not:sharing-advice", 3, None, "hier",
       r"hier (?:sind|meine|ein paar|unsere) (?:\w+ )?(?:tipps|ideen|empfehlungen|links|ressourcen|folien)\b"),
    _r("not:sharing-advice", 3, None, "empfehle", _pre("ich") + r"empfehle\b"),
    _r("not:sharing-advice", 3, None, "tipp", r"tipp:"),
    _r("not:sharing-advice", 3, None, "jemandem", _pre("falls_es") + r"jemandem\b"),
    _r("not:sharing-advice", 3, None, "alle", _pre("fur") + r"alle,? die\b"),
    _r("not:sharing-advice", 3, None, "mis", r"mis (?:consejos|recomendaciones)\b"),
    _r("not:sharing-advice", 3, None, "consejo", _pre("mi") + r"consejo\b|consejo:"),
    _r("not:sharing-advice", 3, None, "dejo", _pre("os") + r"dejo\b"),
    _r("not:sharing-advice", 3, None, "aqui", r"aqui (?:os|van|tienes|teneis|dejo)\b"),
    _kw("not:sharing-advice", 3, None, "recomiendo"),
    _r("not:sharing-advice", 3, None, "alguien", _pre("por_si_a") + r"alguien\b"),
    # Community engagement prompts: they ask, but not for help.
    _r("not:engagement-prompt", 3, None, "question poll prompt fun challenge",
       _pre("friday monday tuesday wednesday thursday weekend sunday saturday fun daily weekly")
       + r"(?:question|poll|prompt|fun|challenge)\b|question (?:of the|du) (?:day|week|jour|semaine)\b"),
    _r("not:engagement-prompt", 3, None, "frage", r"frage (?:der woche|des tages)\b"),
    _r("not:engagement-prompt", 3, None, "pregunta", r"pregunta (?:del dia|de la semana)\b"),
    _kw("not:engagement-prompt", 3, None, "qotd muestranos leeis"),
    _r("not:engagement-prompt", 3, None, "tell drop comment comments let",
       r"tell us (?:in the|below|your|about your|what)\b|drop (?:your|them|it|a|an) (?:\w+ )?(?:below|in the)\b|"
       r"comment below\b|(?<=in the )comments\b|let us know (?:in|below)\b"),
    _r("not:engagement-prompt", 3, None, "what whats",
       r"what are you (?:reading|watching|listening|up to|working on|doing this)\b|"
       r"what(?:'s| is|s) everyone (?:reading|up to|doing this)\b"),
    # Small talk: "How was your weekend?"
    _r("not:engagement-prompt", 3, None, "how wie que comment",
       r"how (?:was|were|is) (?:your|everyone's|y'all's|the) (?:weekend|day|week|holiday|holidays|summer|break|"
       r"monday|friday)\b|wie (?:war|waren|ist|geht's|lief) (?:euer|eure|dein|deine|das) (?:wochenende|tag|woche|"
       r"urlaub|start)\b|que tal (?:el|la|tu|vuestro|vuestra|los) (?:fin de semana|dia|semana|verano|vacaciones)\b|"
       r"comment s'est passe (?:votre|ton|le) (?:week-end|weekend|journee|semaine|ete)\b"),
    _r("not:engagement-prompt", 3, None, "share show",
       r"share (?:your|a) (?:favou?rite|photo|pic|picture|shelfie|desk)\b|show us (?:your|a)\b"),
    _r("not:engagement-prompt", 3, None, "lisez lest leyendo zeigt montrez",
       _pre("que") + r"lisez-vous\b|" + _pre("ce_que_vous") + r"lisez\b|" + _pre("was") + r"lest ihr\b|"
       + _pre("que_estais que_estan") + r"leyendo\b|zeigt (?:uns|mal)\b|montrez-nous\b"),
    # Campaigns: petitions, write-to-your-representative.
    _kw("not:advocacy", 3, None, "petition unterschreibt peticion signez"),
    _r("not:advocacy", 3, None, "write contact call",
       r"write to your\b|(?:contact|call) your (?:mp|mep|representative|senator|legislator|councillor|"
       r"councilor|rep)\b"),
)

# --------------------------------------------------------------------------
# Generic question analysis, for questions that no phrase rule knows.
# --------------------------------------------------------------------------

# A sentence ending in "?" counts as a direct question when it opens like a
# yes/no or which/where/how question ("Does TinyCat support MARC import?"), or
# opens with what/who/why... *and* involves the writer or the audience ("What
# would you cut first?").  Emotive wh-questions without a person ("Who's
# going?", "Why are vendors like this?") are left alone.
_Q_OPENER_ANY = re.compile(
    r"(?:^|, | - |\x01)\s*(?:is|are|does|do|did|can|could|should|would|will|has|have|am|which|where|how|any|"
    r"est-ce|y a-t-il|peut-on|faut-il|existe-t-il|\w+-(?:t-il|t-elle|vous|je|on)|ou|"
    r"gibt|ist|sind|kann|konnen|konnt|darf|muss|soll|sollte|hat|haben|habt|kennt|lohnt|funktioniert|"
    r"unterstutzt|welche\w*|wo|wie|hay|es|se puede|puede|puedo|debo|existe|cual|cuales|donde|como|funciona|"
    r"vale la pena|sirve)\b"
)
_Q_OPENER_WH = re.compile(
    r"(?:^|, | - |\x01)\s*(?:what|when|why|who|que|qu'est-ce|quel|quelle|quels|quelles|comment|pourquoi|"
    r"combien|was|warum|wann|wer|womit|wozu|cuando|cuant[oa]s?|por que|quien|quienes|por donde|de donde|"
    r"a donde|con que|en que|qui|a qui|par ou)\b"
)
_Q_PERSON = re.compile(
    r"\b(?:i|i'm|i've|my|me|we|our|us|you|your|y'all|anyone|anybody|someone|somebody|others|folks|everyone|"
    r"people|je|j'|mon|ma|mes|nous|notre|nos|vous|votre|vos|tu|ton|ta|tes|quelqu'un|"
    r"ich|mich|mir|mein\w*|wir|uns|unser\w*|ihr|euch|eure?\w*|man|jemand|dich|dein\w*|"
    r"yo|mi|mis|nosotr[oa]s|nuestr\w*|vosotr[oa]s|os|vuestr\w*|usted\w*|alguien|te|tus)\b"
)
_Q_VOSOTROS = re.compile(r"\b\w{2,}(?:ais|eis)\b")
_SENTENCE_END = "!?\n\x01:;"  # plus ". " (a dot inside "5.000" or "v2.1" ends nothing)


def _direct_question(s: str) -> tuple[int, int] | None:
    """Where a sentence ending in "?" passes the opener/person test above (the first such), if one does.

    An ellipsis may end a sentence ("Weeding day... Does anyone...?") or pause inside one ("Does the new
    release... break your rules?"), so a sentence that starts at one is also tried from the hard boundary before.
    """
    pos = s.find("?")
    while pos != -1:
        if pos + 1 == len(s) or not s[pos + 1].isalnum():
            start = _sentence_start(s, pos)
            starts = [start]
            while start >= 3 and s[start - 3 : start] == "...":
                start = _sentence_start(s, start - 3)
                starts.append(start)
            for start in starts:
                seg = s[start:pos]
                if start > 0 and s[start - 1] == _INVQ:
                    seg = _INVQ + seg
                if _Q_OPENER_ANY.search(seg) or (
                    _Q_OPENER_WH.search(seg)
                    and (_Q_PERSON.search(seg) or (seg.startswith(_INVQ) and _Q_VOSOTROS.search(seg)))
                ):
                    while start < pos and not s[start].isalnum():
                        start += 1
                    return start, pos + 1
        pos = s.find("?", pos + 1)
    return None


def _sentence_start(s: str, pos: int) -> int:
    return max(max(s.rfind(c, 0, pos) for c in _SENTENCE_END), s.rfind(". ", 0, pos)) + 1


def _q_follows(s: str, end: int) -> bool:
    """True if a "?" closes the sentence that continues at ``end`` (within 120 characters)."""
    q = s.find("?", end, end + 121)
    if q == -1:
        return False
    seg = s[end:q]
    return "!" not in seg and "\n" not in seg and ". " not in seg


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

_THRESHOLD = 3


class _Key(NamedTuple):
    """Everything tried at one key word, for both families at once (see ``_table``)."""

    direct: tuple[int, ...]  # rules fired by the word's mere presence
    needle: bytes  # b" key": finds the word's starts in ``split``
    pre: re.Pattern[str] | None  # any of the key's patterns holds here (None: the key has no pattern)
    rx: re.Pattern[str] | None  # which of them hold, and where each ends (None: one pattern, ``pre`` says it)
    groups: tuple[tuple[int, int, bool], ...]  # (group, rule, needs "?"); group 0 when ``pre`` is the one pattern


def _fuse(patterns: list[tuple[int, bool, str]]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Two regexes for one key's patterns p1, p2, ...

    ``(?:p1|p2|...)`` is the pre-check: at most occurrences nothing holds, and
    a failed match costs less than building a Match object.  Then
    ``(?:(?=(p1)))?(?:(?=(p2)))?...`` reports, in one match(), every pattern
    that holds and where each ends.
    """
    return (
        re.compile("(?:" + "|".join(p for _, _, p in patterns) + ")"),
        re.compile("".join(f"(?:(?=({p})))?" for _, _, p in patterns)),
    )


def _table(families: tuple[tuple[_Rule, ...], ...]) -> dict[bytes, _Key]:
    """Group every rule of every family by key word, and fuse each key's patterns into one regex.

    Rules are numbered across the families in order (``_RULES``). Each pattern becomes an optional lookahead
    with one capturing group, so a single ``match()`` at an occurrence tells which of the key's rules hold
    there, ask and not rules alike, and where each match ends.  This is what keeps a call in the tens of
    microseconds: one C-level attempt per occurrence instead of one Python call per rule, and a word that both
    families key on ("who", "advice") is found and tried once.
    """
    direct: dict[str, list[int]] = {}
    patterns: dict[str, list[tuple[int, bool, str]]] = {}
    slugs: dict[str, int] = {}
    i = 0
    for family, rules in enumerate(families):
        for r in rules:
            if slugs.setdefault(r.slug, family) != family:  # a family's reasons are told apart by slug
                raise ValueError(f"{r.slug} in two families")
            if r.rx is not None and r.rx.groups:
                raise ValueError(f"capturing group in {r.slug}: use (?:...)")
            for k in r.keys:
                if r.rx is None and not r.q:
                    direct.setdefault(k, []).append(i)
                elif r.rx is None:
                    patterns.setdefault(k, []).append((i, r.q, re.escape(k) + r"\b"))
                else:
                    patterns.setdefault(k, []).append((i, r.q, r.raw.replace("{K}", re.escape(k) + r"\b")))
            i += 1
    table = {}
    for k in {*direct, *patterns}:
        pats = patterns.get(k) or []
        if len(pats) == 1:  # the pre-check is the pattern itself: its match says where the rule's words end
            fused: tuple[re.Pattern[str] | None, re.Pattern[str] | None] = (re.compile(pats[0][2]), None)
            groups = ((0, pats[0][0], pats[0][1]),)
        else:
            fused = _fuse(pats) if pats else (None, None)
            groups = tuple((g, i, q) for g, (i, q, _) in enumerate(pats, 1))
        table[k.encode("ascii")] = _Key(tuple(direct.get(k, ())), b" " + k.encode("ascii"), *fused, groups)
    return table


def _check_weights(rules: tuple[_Rule, ...]) -> tuple[_Rule, ...]:
    weights: dict[str, int] = {}
    for r in rules:
        if weights.setdefault(r.slug, r.weight) != r.weight:  # one weight per slug, or reasons lie
            raise ValueError(f"inconsistent weight for {r.slug}")
    return rules


_RULES = _check_weights(_ASK_RULES) + _check_weights(_NOT_RULES)  # rule i asks when i < _N_ASK
_N_ASK = len(_ASK_RULES)
_TABLE = _table((_ASK_RULES, _NOT_RULES))
_QMARK = _TABLE.pop(b"?", None)  # rules anchored at "?": tried at each "?" of ``s``, not at word starts
_ALL_KEYS = frozenset(_TABLE)

_Fired = list[tuple[_Rule, int, int]]


def _fire(s: str, split: bytes, present: frozenset[bytes], has_qmark: bool) -> tuple[_Fired, _Fired]:
    """The ask rules and the not rules that fire on ``s``, with where each first matched: one per slug, in
    table order.

    ``split`` is ``b" " + s`` with every non-alphanumeric byte turned into a
    space, so ``split.find(b" key")`` lands exactly on word starts (and its
    result is the key's index in ``s``), never on "key" inside a longer word.

    Each rule keeps its earliest match in the post (the shortest at the same start). Why: a rule keyed on
    several words is tried key by key in a set's order, which changes with Python's hash seed; taking
    whichever came first made the quoted words differ from one process to the next.
    """
    hit: dict[int, tuple[int, int]] = {}
    table = _TABLE
    for kb in present:
        direct, needle, pre, rx, groups = table[kb]
        if direct:
            at = split.find(needle)
            span = (at, at + len(kb))
            for i in direct:
                held = hit.get(i)
                if held is None or span < held:
                    hit[i] = span
        if pre is None:
            continue
        p = split.find(needle)
        while p != -1:
            m = pre.match(s, p)
            if m is not None:  # at least one rule holds here: which? (with one rule, m says it)
                regs = (m if rx is None else rx.match(s, p)).regs  # type: ignore[union-attr]
                for g, i, q in groups:
                    a, b = regs[g]
                    if a != -1 and (not q or _q_follows(s, b)):
                        span = (p, b if b > p else p + len(kb))
                        held = hit.get(i)
                        if held is None or span < held:
                            hit[i] = span
            p = split.find(needle, p + 1)
    if has_qmark and _QMARK is not None and _QMARK.pre is not None:
        pre, rx, groups = _QMARK.pre, _QMARK.rx, _QMARK.groups
        p = s.find("?")
        while p != -1:
            m = pre.match(s, p)
            if m is not None:
                regs = (m if rx is None else rx.match(s, p)).regs  # type: ignore[union-attr]
                for g, i, q in groups:
                    if regs[g][0] != -1 and (not q or _q_follows(s, regs[g][1])):
                        span = (p, max(regs[g][1], p + 1))
                        held = hit.get(i)
                        if held is None or span < held:
                            hit[i] = span
            p = s.find("?", p + 1)
    asks: _Fired = []
    nots: _Fired = []
    if hit:
        seen: set[str] = set()
        for i in sorted(hit):
            r = _RULES[i]
            if r.slug not in seen:
                seen.add(r.slug)
                (asks if i < _N_ASK else nots).append((r, *hit[i]))
    return asks, nots


def _has_real_qmark(s: str) -> bool:
    """A "?" that ends something (not one glued to a following word)."""
    pos = s.find("?")
    while pos != -1:
        if pos + 1 == len(s) or not s[pos + 1].isalnum():
            return True
        pos = s.find("?", pos + 1)
    return False


class _RuleResult(NamedTuple):
    """What the rules found in one post, before the model has its say."""

    s: str  # the normalised text
    score: int
    penalty: int
    asks: list[tuple[str, int, int]]  # (slug, start, end) in s; "question-mark" and "asks:direct-question" too
    nots: list[tuple[str, int, int]]


def _run_rules(text: str, lang: str | None) -> _RuleResult:
    s = normalise(text)
    hint = (lang or "").lower()[:2] or None
    split = (b" " + s.encode("ascii")).translate(_WORD_TABLE)
    present = _ALL_KEYS.intersection(split.split())
    has_qmark = "?" in s
    has_q = has_qmark and _has_real_qmark(s)

    # The not-rules run even when nothing asks: they cannot change the rules' verdict, but "not:hiring" tells a
    # curator more than "not:no-ask", and the model weighs them against its own reading.
    asks, nots = _fire(s, split, present, has_qmark)
    found = [(r.slug, _widen(s, r, a), b) for r, a, b in asks]
    score = sum(r.weight + (1 if r.weight < 3 and r.lang is not None and r.lang == hint else 0) for r, _, _ in asks)
    if has_q:
        if not asks:
            q = _direct_question(s)
            if q is not None:
                found.append(("asks:direct-question", *q))
                score += 2
        at = s.find("?")
        found.append(("question-mark", at, at + 1))
        score += 1
    return _RuleResult(s, score, sum(r.weight for r, _, _ in nots), found,
                       [(r.slug, _widen(s, r, a), b) for r, a, b in nots])


def _widen(s: str, rule: _Rule, start: int) -> int:
    """Where a rule's words start: a rule anchored after a lookbehind ("can" + "anyone") starts a word earlier."""
    if not rule.raw.startswith(("(?:(?<=", "(?<=")) or start == 0:
        return start
    prev = s.rfind(" ", 0, max(0, start - 1))
    return prev + 1


def rule_margin(text: str, lang: str | None = None) -> float:
    """The rules' own evidence for a request, centred on their threshold: > 0 means the rules alone say yes."""
    return rule_evidence(text, lang)[0]


def rule_evidence(text: str, lang: str | None = None) -> tuple[float, list[str]]:
    """The rules' margin and the names of every rule that fired (both sides), as the model is trained on them."""
    r = _run_rules(text, lang)
    return r.score - r.penalty - _THRESHOLD + 0.5, [slug for slug, _, _ in r.asks + r.nots]


_active: Model | None = None


def use_model(model: Model | None) -> None:
    """Install the model ``classify`` uses by default in this process (None: the shipped base model).

    A collect cycle installs the community's retrained model (``pipeline.detector.store``) before it classifies
    anything, so ingest and the stream keep calling ``classify(text, lang)``.
    """
    global _active
    _active = model


def active_model() -> Model:
    return _active if _active is not None else base_model()


def classify(text: str, lang: str | None = None, *, model: Model | None = None, quote: bool = True) -> Verdict:
    """Decide whether a top-level post asks the community for something.

    The rules (named phrases in four languages) and the learned model (n-grams, any language) each give evidence;
    ``Model.decide`` weighs the two as the labelled data taught it. ``lang`` is the platform's language tag, used
    only as a hint: a weak (weight-2) cue written for that language counts one point more. Every rule of every
    language is applied whatever ``lang`` says, because tags are frequently absent or wrong.

    The reasons are the winning side's rules, each with the words it matched in the post, plus ``model:<p>``
    (the model's own probability) whenever the model overruled the rules. ``quote=False`` skips finding those
    words (``words`` is then empty): the stream's filter only needs the verdict, for every post of the firehose.
    """
    r = _run_rules(text, lang)
    m = model if model is not None else active_model()
    logit = m.logit(r.s, [slug for slug, _, _ in r.asks + r.nots])
    margin = r.score - r.penalty - _THRESHOLD + 0.5
    is_request = m.decide(margin, logit) >= m.threshold
    rules_say = margin > 0
    side = r.asks if is_request else r.nots
    reasons = [slug for slug, _, _ in side]
    words = _quotes(text, r.s, side) if quote else []
    if is_request != rules_say:
        p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        reasons.append(f"model:{p:.2f}")
        if quote:
            words.append(", ".join(m.top_words(r.s, positive=is_request)))
    elif not is_request and not reasons:
        reasons, words = (["not:no-ask"] if r.score == 0 else ["not:weak-ask"]), ([""] if quote else [])
    return Verdict(is_request, tuple(reasons), tuple(words))


def _quotes(text: str, s: str, spans: list[tuple[str, int, int]]) -> list[str]:
    """The words of the original post behind each ``s[a:b]`` (``s`` is ``normalise(text)``), for showing a person.

    An ASCII post without links normalises to the same length, so the offsets carry over; otherwise the span's
    words are looked up among the post's own words, each normalised alone (indexed once for all the spans), and
    the normalised words are the fallback. An ASCII post with links is first looked up among its lower-cased
    words (``_plain_words``), which are those normalised words up to its first link.
    """
    if not spans:
        return []
    if len(s) == len(text) and text.isascii():
        return [_quote(text, s, a, b, None, None) for _, a, b in spans]
    plain = _plain_words(text) if text.isascii() else None
    index: list[_WordIndex] = []  # built by the first span that needs it
    return [_quote(text, s, a, b, plain, index) for _, a, b in spans]


def _quote(text: str, s: str, a: int, b: int, plain: _PlainWords | None, index: list[_WordIndex] | None,
           limit: int = 60) -> str:
    frag = " ".join(s[a:b].split())
    if frag == "?":
        return "?"
    if index is None:
        out = " ".join(text[a:b].split())
    else:
        out = _find_plain(text, plain, frag) if plain is not None else None
        if out is None:
            if not index:
                index.append(_index_words(text))
            out = _find_words(text, index[0], frag)
        out = out or frag
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "\u2026"


class _PlainWords(NamedTuple):
    """An ASCII post's words lower-cased, joined by spaces, and where the first word that is not plain starts.

    An ASCII word normalises to itself lower-cased unless it holds a backquote or a link (see ``normalise``),
    so up to ``clean`` the join is exactly ``_WordIndex.joined``, built without normalising a word.
    """

    words: list[str]
    joined: str
    clean: int


def _plain_words(text: str) -> _PlainWords:
    words = text.lower().split()
    joined = " ".join(words) + " "
    clean = len(joined)
    for mark in ("/", "www.", "`"):  # every link has "/" or "www."; a word holding one is not known plain
        at = joined.find(mark, 0, clean)
        if at != -1:
            clean = joined.rfind(" ", 0, at) + 1
    return _PlainWords(words, joined, clean)


def _find_plain(text: str, plain: _PlainWords, frag: str) -> str | None:
    """``_find_words`` for an ASCII post, when ``frag`` first occurs before its first link (None: not known).

    An occurrence of ``frag`` in the full join that starts earlier would end before this one does, so inside
    the part both joins share: the first one found here is the first one there.
    """
    joined = plain.joined
    at = joined.find(frag, 0, plain.clean) if frag else -1
    if at == -1:
        return None
    first, last = joined.count(" ", 0, at), joined.count(" ", 0, at + len(frag) - 1)
    return _between(text, first, last, len(plain.words[last]))


def _between(text: str, first: int, last: int, last_len: int) -> str:
    """The text from the start of word ``first`` to the end of word ``last`` (of ``text.split()``), trimmed.

    Word i of ``text`` starts where ``text.split(None, i)`` leaves its remainder, which finds the first and last
    words' places in C instead of a loop over every word before them.
    """
    n = len(text)
    begin = n - len(text.split(None, first)[-1])
    end = n - len(text.split(None, last)[-1]) + last_len
    return text[begin:end].strip(" ,.;:!")


class _WordIndex(NamedTuple):
    """A post's words, each normalised alone, and those joined by spaces (a space after each, the last too)."""

    words: list[str]
    norms: list[str]
    joined: str


def _index_words(text: str) -> _WordIndex:
    words = text.split()  # the same runs as re.finditer(r"\S+"): both split at str.isspace()
    norms = list(map(_WORD_NORMS.get, words))
    if None in norms:  # new words, or links (never cached): found by a C-level scan, not a loop over all words
        i = norms.index(None)
        while True:
            norms[i] = _norm_word(words[i])
            try:
                i = norms.index(None, i + 1)
            except ValueError:
                break
    return _WordIndex(words, norms, " ".join(norms) + " " if norms else "")


def _find_words(text: str, index: _WordIndex, frag: str) -> str | None:
    """The post's own words whose normalised forms, joined by spaces, contain ``frag`` (None if none do).

    Why this shape: it runs for every quoted reason of a post with links or accents, most posts of a real feed.
    Each word is normalised alone (so offsets map back to words) through a cache, since the same words recur
    from post to post.
    """
    at = index.joined.find(frag) if frag else -1
    if at == -1:
        return None
    words, joined, end = index.words, index.joined, at + len(frag)
    if joined.count(" ") == len(words):  # no normalised word holds a space: word i ends at the (i+1)-th space
        first, last = joined.count(" ", 0, at), joined.count(" ", 0, end - 1)
    else:
        starts = list(accumulate(map(_PLUS_ONE, map(len, index.norms)), initial=0))
        first, last = bisect_right(starts, at) - 1, bisect_left(starts, end) - 1
    return _between(text, first, last, len(words[last]))


_WORD_NORMS: dict[str, str] = {}
_PLUS_ONE = (1).__add__


def _norm_word(word: str) -> str:
    """``normalise(word).strip()``, remembered for a word short enough to come again (links, mostly, do not).

    An ASCII word that is a whole link normalises to nothing: said at once, as links are not cached and a
    post's links would otherwise be normalised again at every quote. The cache is cleared when it passes
    100,000 words, so it stays within a few megabytes.
    """
    if word.isascii():
        head = word[:8].lower()
        if ((head.startswith("http://") and len(word) > 7) or (head.startswith("https://") and len(word) > 8)
                or (head.startswith("www.") and len(word) > 4)):
            return ""
    norm = normalise(word).strip()
    if len(word) <= 40:
        if len(_WORD_NORMS) > 100_000:  # a stream of one-off tokens must not grow it for ever
            _WORD_NORMS.clear()
        _WORD_NORMS[word] = norm
    return norm
