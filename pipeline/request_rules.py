"""Rule-based detector for help requests in community posts.

peerdesk shows an organiser which *help requests* under a community hashtag are
still unanswered, so it must tell "Does anyone know a good ILS for a 2-person
law library?" apart from "Did you know...?", webinar adverts, job ads and blog
promotion. It does that with hand-written rules rather than a trained model:

* **Explainable.** Every verdict carries short, stable reason slugs
  (``asks:does-anyone-know``, ``not:hiring``) that the dashboard can show next
  to the post, so the organiser sees *why* a post is (not) in the queue.
* **Overridable.** A curator who disagrees flips the post by hand; a rule that
  misfires is one visible regex to fix, not a model to retrain and re-audit.
* **Cheap and private.** Standard library only, no network, no weights, and a
  call costs a few tens of microseconds, so re-scoring a million stored posts
  is a benchmark, not a batch job.
* **Multilingual by construction.** Rules for English, French, German and
  Spanish are always applied together because the platforms' language tags
  are often missing or wrong; ``lang`` is only a hint (see ``classify``).

How a verdict is reached: every rule that fires adds its weight. *Ask* rules
add evidence for a request (3 = firm on its own, 2 = needs a second cue, the
question mark adds 1); *not* rules subtract (rhetorical openers, adverts, job
ads, thank-you-after-help, shared advice...). A post is a request when the
asks add up to at least ``_THRESHOLD`` after the subtractions.  Each slug
counts once, so repeating a phrase does not inflate a post.

Matching runs on a normalised copy of the text: case-folded, apostrophes
unified, accents stripped (``weiß`` -> ``weiss``, ``¿Conocéis`` -> ``conoceis``),
links removed (a ``?`` inside a URL is not a question).  To stay fast, each
rule names a few *key words*; the post is split into a word set once and only
rules whose key word is present are run, each from just before the key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Verdict", "classify", "normalise"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one post and the named rules that decided it.

    ``reasons`` holds the winning side's slugs: ``asks:*`` (and
    ``question-mark``) for a request; ``not:*`` for a post that is not one,
    where ``not:no-ask`` / ``not:weak-ask`` mean no (or not enough) asking cue
    was found rather than that something argued against it.
    """

    is_request: bool
    reasons: tuple[str, ...]


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

# Inverted question mark survives the ASCII fold as this control character, so
# Spanish rules can see where a question starts.
_INVQ = "\x01"

# Characters that NFKD would drop or mangle but that carry meaning here.
_PRE_REPLACE: dict[str, str] = {
    "\u2019": "'",  # right single quotation mark (the usual "smart" apostrophe)
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
_PRE_KEYS = frozenset(_PRE_REPLACE)

# Links: a "?" in a query string is not a question, and path words are noise.
_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*")

# Byte table for word splitting: letters, digits and "?" stay, the rest is space.
_WORD_TABLE = bytes(b if chr(b).isalnum() else 0x20 for b in range(256))


def normalise(text: str) -> str:
    """Fold text to the lower-case ASCII form the rules are written against.

    Why ASCII: NFKD + ``encode("ascii", "ignore")`` strips accents in C, which
    keeps a 500-character post at a few microseconds, and lets one pattern
    match both ``connaît`` and the often-typed ``connait``.  The characters
    that would be lost but matter (smart apostrophes, ``¿``, dashes) are
    mapped first.
    """
    t = text.casefold()  # also ß -> ss
    if not t.isascii():
        present = _PRE_KEYS.intersection(t)
        for ch in present:
            t = t.replace(ch, _PRE_REPLACE[ch])
        t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    t = t.replace("`", "'")
    if "://" in t or "www." in t or ("/" in t and "?" in t):
        t = _URL_RE.sub(" ", t)
    return t


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------


class _Rule(NamedTuple):
    slug: str
    weight: int
    lang: str | None  # language the cue belongs to; None = any language
    keys: tuple[str, ...]  # whole words, one of which must occur for the rule to run
    rx: re.Pattern[str]
    back: int  # how far before the first key word a match can start


def _rule(slug: str, weight: int, lang: str | None, keys: str, pattern: str, back: int = 60) -> _Rule:
    return _Rule(slug, weight, lang, tuple(keys.split()), re.compile(pattern), back)


def _alt(words: str) -> str:
    """``"a b c"`` -> ``"(?:a|b|c)"``; words may contain ``_`` for a space."""
    return "(?:" + "|".join(w.replace("_", " ") for w in words.split()) + ")"


# A "?" closing the same sentence within ~120 characters (a dot followed by a
# non-space, as in "v2.1" or "e.g.x", does not end the sentence).
_QTAIL = r"(?=(?:[^.!?\n]|\.(?=\S)){0,120}\?)"

# Nouns that name what a request asks for, in all four languages.
_EN_NOUNS = (
    "tips? advice suggestions? recommendations? recs? ideas? thoughts pointers? insights? guidance "
    "feedback hints? wisdom input experiences? alternatives? workarounds? opinions? leads resources "
    "solutions? templates? examples? strategies pros_and_cons sanity_check second_opinion gut_check"
)
_FR_NOUNS = (
    "conseils? idees? recommandations? suggestions? pistes? avis retours? retours_d'experience "
    "astuces? tuyaux recos? aide lumieres ressources temoignages experiences? solutions? alternatives? "
    "exemples? modeles? coup_de_main"
)
_DE_NOUNS = (
    "tipps? empfehlungen empfehlung ideen idee ratschlage? rat hinweise? erfahrungen erfahrungswerte "
    "erfahrungsberichte input anregungen vorschlage hilfe losung losungen alternativen beispiele vorlagen"
)
_ES_NOUNS = (
    "consejos? recomendaciones recomendacion sugerencias? ideas? opiniones experiencias? ayuda "
    "orientacion pistas referencias recursos alternativas ejemplos plantillas soluciones"
)
EN_N = _alt(_EN_NOUNS)
FR_N = _alt(_FR_NOUNS)
DE_N = _alt(_DE_NOUNS)
ES_N = _alt(_ES_NOUNS)
ALL_N = _alt(" ".join((_EN_NOUNS, _FR_NOUNS, _DE_NOUNS, _ES_NOUNS)))


def _keys_of(nouns: str) -> str:
    """Key words for a noun list: each word with and without its optional last letter."""
    out: list[str] = []
    for w in nouns.split():
        w = w.split("_")[0].split("'")[0]
        if w.endswith("?"):
            out += [w[:-2], w[:-1]]
        else:
            out.append(w)
    return " ".join(out)


_ALL_NOUN_KEYS = " ".join(
    sorted(set(_keys_of(" ".join((_EN_NOUNS, _FR_NOUNS, _DE_NOUNS, _ES_NOUNS))).split()))
)

_ANYONE = r"(?:any ?one|any ?body|some ?one|some ?body|any of (?:you|u|y'all)|you all|y'all|anyone else)"
_PEERS = r"(?:other (?:\w+ )?(?:librarians|libraries|solos|folks|people|colleagues|teams|archivists))"

_ASK_RULES: tuple[_Rule, ...] = (
    # ---------------------------------------------------------------- English
    _rule(
        "asks:does-anyone-know", 3, "en", "anyone anybody someone somebody any one body",
        r"\b(?<!if )(?<!in case )(?:any ?one|any ?body|some ?one|some ?body|any of you)"
        r"(?: (?:here|out there|else|around|on here|reading this|in the \w+))* "
        r"(?:know|knows|have any idea|got any idea|happen to know|remember)\b",
    ),
    _rule(
        "asks:has-anyone", 3, "en", "anyone anybody someone somebody any y all other",
        rf"\b(?:has|have|had|did|does|do|is|are|was|were) (?:{_ANYONE}|{_PEERS})\b",
    ),
    _rule(
        "asks:can-anyone", 3, "en", "anyone anybody someone somebody any you y all",
        rf"\b(?:can|could|would|will|may|might) (?:{_ANYONE}\b|you (?:please |kindly |possibly )?"
        r"(?:recommend|suggest|help|point|share|tell|explain|advise|send|check|confirm|clarify|lend)\b)",
    ),
    _rule(
        "asks:anyone-using", 3, "en", "anyone anybody",
        r"(?<!if )(?<!in case )(?<!for )\b(?:any ?one|any ?body)(?: (?:here|out there|else|around|on here))* "
        r"(?:use|uses|using|used|tried|try|trying|have|has|had|having|seen|got|get|getting|dealt|dealing|"
        r"run|ran|work|works|working|worked|familiar|recommend|suggest|willing|able|experienced|handle|"
        r"handled|handling|catalogue|catalog|cataloguing|cataloging|manage|managed|figured|solved|migrated|"
        r"switched|moved|implemented|found|kept|keep|successfully|ever|already|still|actually)\b",
    ),
    _rule(
        "asks:any-tips", 3, "en", "any",
        r"(?<!without )(?<!n't have )(?<!not have )(?<!n't find )(?<!n't get )(?<!never had )"
        r"(?<!n't need )(?<!n't see )(?<!n't found )\bany(?: (?:good|other|more|further|practical|"
        r"quick|useful|great|solid|free|cheap|recent|real|hands-on|first-hand|firsthand|specific|concrete|"
        rf"simple|easy|cool|clever|creative|fresh)){{0,2}} {EN_N}\b",
    ),
    _rule(
        "asks:any-peers-out-there", 3, "en", "out around here there",
        r"\bany (?:\w+ ){0,2}?\w+s (?:out there|around|here|on here|in the house|reading this)\b",
        back=50,
    ),
    _rule(
        "asks:wanted", 3, "en", "wanted needed sought seeking request",
        r"(?:^|[.!\n]\s*)(?:wanted|needed|sought|seeking|request)\s*:",
        back=3,
    ),
    _rule(
        "asks:seeks-advice", 3, "en",
        "looking seeking searching hunting hoping love appreciate welcome grateful need needs needing "
        "want wanted open keen curious request requesting asking crowdsource crowdsourcing use",
        r"\b(?:looking for|seeking|searching for|hunting for|hoping for|would love|'d love|"
        r"would appreciate|'d appreciate|would welcome|'d welcome|(?:be |am |i'm )?grateful for|"
        r"appreciate any|appreciate your|appreciate some|need|needs|needing|in need of|want|wanted|"
        r"open to|keen to hear|curious to hear|love to hear|welcome any|welcome your|requesting|"
        r"asking for|crowdsourcing|crowdsource|could use|can use|could do with)"
        r"(?: (?:some|any|your|a few|a little|a bit of|good|more|other|people's|fellow|"
        r"specific|quick|practical|real-world|honest|expert|to hear|hear|from|you|all|of|y'all|"
        rf"anyone's|folks'|others'|solid|a|an)){{0,3}} (?:{EN_N}|help)\b(?!\s+(?:is|are) (?:here|available|out))",
    ),
    _rule(
        "asks:looking-for", 3, "en", "looking searching hunting lookout seeking",
        r"(?:\b(?:i'm|i am|im|currently|still|i've been|ive been|been|am|also|desperately|urgently|"
        r"now|hi,?|hello,?|hey,?)"
        r"(?: \w+)? |(?:^|[.!\n\x01:]\s*))(?:looking|searching|hunting|on the (?:hunt|lookout)) for\b|"
        r"(?:^|[.!\n\x01:]\s*)(?:(?:desperately|urgently|still|currently) )?seeking\b",
    ),
    _rule(
        "asks:advice-welcome", 3, None, _ALL_NOUN_KEYS + " help",
        rf"\b(?!help wanted)(?:{EN_N}|help)(?: (?:are|is|would be|will be|very|greatly|much|gratefully|"
        r"most|hugely|always|so|really|super|massively|truly|all|and|or|of any kind|\w+)){0,4}? "
        r"(?:welcome|appreciated|wanted|needed|requested|gratefully received|please)\b",
    ),
    _rule(
        "asks:advice-question", 3, None, _ALL_NOUN_KEYS,
        rf"\b{ALL_N}\b{_QTAIL}",
    ),
    _rule(
        "asks:recommendations-for", 3, "en", "recommendations recommendation recs suggestions help",
        r"(?:^|[.!\n\x01:]\s*)(?:recommendations?|recs|suggestions|help) (?:for|on|about|re|with|needed|please)\b",
    ),
    _rule(
        "asks:what-do-you-use", 3, "en", "what",
        r"\bwhat(?:'s| is| are| do| does| did| would| should| have)"
        r"(?: \w+)? (?:you|your|y'all|everyone|others|folks|people|other|anyone|everybody)"
        r"(?: \w+){0,2}? (?:use|using|used|recommend|suggest|think|prefer|pay|paying|charge|budget|call|"
        r"keep|track|tried|consider|advise|rely on|go with)\b",
    ),
    _rule(
        "asks:how-do-you", 2, "en", "how",
        r"\bhow (?:do|does|did|would|should|can|could|will|might|are|is) (?:you|your|y'all|others|other|"
        r"everyone|folks|people|one|i|we|anyone|someone|my|our)\b(?! (?:all )?(?:doing|holding up|feeling)\b)"
        r"|\bhow to\b" + _QTAIL,
    ),
    _rule(
        "asks:which-do-you", 3, "en", "which",
        r"\bwhich (?:\w+ ){0,3}?(?:do|does|would|should|did|have|has|are|is|can) "
        r"(?:you|i|we|your|people|others|folks|y'all|everyone|anyone)\b",
    ),
    _rule(
        "asks:where-can-i", 2, "en", "where",
        r"\bwhere (?:can|could|do|does|should|would|might|to|is|are) (?:i|we|one|you|a person|someone|"
        r"find|get|start|begin|buy|look|go|the best)\b",
    ),
    _rule(
        "asks:is-there", 2, "en", "there",
        r"\b(?:is|are) there (?:a|an|any|some|good|free|cheap|open|decent|reliable|better|easier|simple|"
        r"standard|official|other|already)\b",
    ),
    _rule(
        "asks:should-i", 2, "en", "i we it",
        r"\b(?:should|shall|can|could|may|must|do|am|would) (?:i|we)\b" + _QTAIL
        + r"|\bis it (?:ok|okay|legal|allowed|possible|normal|worth|fine|acceptable|reasonable|common|"
        r"standard|true|wise|safe|better|advisable|necessary|required|a good idea)\b",
    ),
    _rule(
        "asks:what-is-best", 2, "en", "what whats",
        r"\bwhat(?:'s| is| are|s) (?:the |a |your |y'all's )?(?:best|easiest|cheapest|simplest|quickest|"
        r"fastest|right|correct|proper|standard|usual|recommended|go-to|preferred|going rate|most|must-have|"
        r"essential|key|core)\b",
    ),
    _rule(
        "asks:help", 3, "en", "help sos hive hivemind",
        r"(?:^|[.!?\n:]\s*)help\s*[!:?]|\bhelp needed\b|\bplease help\b|\bhelp (?:me|please|pls|plz)\b|"
        r"\bneed (?:\w+ ){0,2}?help\b|\bsos\b|\bhive ?mind\b|"
        r"\bhelp a (?:\w+ )?(?:librarian|colleague|sister|brother|fellow|solo|newbie)\b",
    ),
    _rule("asks:calling-all", 2, "en", "calling", r"\bcalling all\b"),
    _rule(
        "asks:thanks-in-advance", 3, "en", "advance tia anticipation ahead",
        r"\b(?:thanks|thank you|thx|ty|cheers)(?: so much| very much| a lot| all| everyone)? "
        r"(?:in advance|ahead of time|in anticipation)\b|\btia\b",
    ),
    _rule(
        "asks:who-has-done", 3, "en", "who whos",
        r"\bwho(?:'s| has| have| here has| else has)? (?:\w+ )?(?:done|tried|used|dealt with|had|got|set up|run|"
        r"managed|worked with|experience with|been through|migrated|switched)\b",
    ),
    _rule(
        "asks:what-worked", 2, "en", "worked helped",
        r"\bwhat (?:has |have |'s |else )?(?:worked|helped)\b",
    ),
    _rule(
        "asks:recommend-me", 3, "en", "recommend suggest please tell show",
        r"\b(?:recommend|suggest) me\b|\bplease (?:recommend|suggest|advise|send me|point me|help)\b|"
        r"\b(?:tell|show) me (?:how|what|where|which|your|if|whether)\b",
    ),
    _rule(
        "asks:trying-to-figure-out", 2, "en", "trying",
        r"\btrying to (?:figure out|work out|find out|decide|understand|get my head around|make sense of)\b",
    ),
    _rule(
        "asks:wondering", 2, "en", "wondering wonder",
        r"\b(?:wondering|i wonder) (?:if|whether|how|what|why|where|who|when|which)\b",
    ),
    _rule(
        "asks:favour", 3, "en", "point steer willing able mind care share borrow",
        r"\b(?:point|steer) me\b|\b(?:willing|able|mind|care) (?:to )?shar(?:e|ing)\b|\bcan i borrow\b|"
        r"\bshare (?:your|a copy|any|what)\b" + _QTAIL,
    ),
    _rule(
        "asks:quick-question", 3, None,
        "question questions frage pregunta duda petite kurze kleine",
        r"\b(?:quick|small|silly|dumb|stupid|basic|newbie|noob|random|genuine|honest|serious|follow-up|"
        r"follow up|one more|another|technical|practical|cataloguing|cataloging|copyright|licensing|marc|"
        r"budget) question\b|\bquestion (?:for|to) (?:the|my|all|fellow|other|you)\b|"
        r"\bpetite question\b|\bquestion (?:rapide|bete|naive|de debutante?|pour les|aux)\b|"
        r"\b(?:kurze|kleine|dumme|blode|doofe) frage\b|\bfrage (?:an|in) (?:die|alle|euch)\b|"
        r"\bpregunta (?:rapida|tonta|para|a los|a las|de novata?)\b|\b(?:una|tengo una|otra) (?:pregunta|duda)\b",
    ),
    _rule(
        "asks:stuck", 2, None,
        "stuck figure decide idea loss confused galere bloque weiter verzweifle atascada atascado idea se",
        r"\b(?:i'm|i am|im|totally|completely|a bit|so|really) (?:stuck|confused|lost|at a loss)\b|"
        r"\bcan't (?:figure out|work out|find|decide)\b|\bcannot (?:figure out|decide)\b|\bno idea (?:how|what|where|why|which)\b|"
        r"\bje (?:galere|bloque|seche|suis perdue?)\b|\bkomme (?:nicht|da nicht) (?:weiter|klar)\b|"
        r"\bverzweifle\b|\bestoy (?:atascad[ao]|perdid[ao]|liad[ao])\b|\bno se (?:como|que|donde|cual)\b",
    ),
    _rule(
        "asks:question-hashtag", 3, None,
        "askfedi askfediverse askmastodon askbluesky askbsky askalibrarian asklibrarians asklibrarian "
        "fedihelp helpneeded needhelp needadvice question questions frage fragen aide pregunta ayuda help "
        "askthefediverse librarianquestions",
        r"#(?:askfedi|askfediverse|askmastodon|askbluesky|askbsky|askalibrarian|asklibrarians|asklibrarian|"
        r"fedihelp|helpneeded|needhelp|needadvice|question|questions|frage|fragen|aide|pregunta|ayuda|help|"
        r"askthefediverse|librarianquestions)\b",
        back=2,
    ),
    # ----------------------------------------------------------------- French
    _rule(
        "asks:quelqu-un-sait", 3, "fr", "quelqu qqn",
        r"\b(?:quelqu'un|quelqu un|qqn|qq1)(?: (?:ici|parmi vous|d'entre vous|de vous|aurait|a-t-il))? "
        r"(?:a|aurait|connait|connaitrait|sait|saurait|peut|pourrait|utilise|a-t-il|aurait-il|peut-il|"
        r"sait-il|serait|voudrait|a deja|travaille|gere|pour m'aider|d'entre vous)\b",
    ),
    _rule(
        "asks:des-collegues-ici", 3, "fr", "ici coin",
        r"\b(?:des|d'autres|il y a des|une?) (?:\w+ ){0,6}?(?:ici|par ici|dans le coin|sur mastodon|sur bluesky)\s*\?",
    ),
    _rule(
        "asks:quelle-est-la-meilleure", 2, "fr", "quel quelle quels quelles",
        r"\bquel(?:le)?s? (?:est|sont|serait|seraient) (?:la |le |les |votre |vos )?(?:meilleure?s?|plus simple|"
        r"bonne facon|bonne methode)\b",
    ),
    _rule(
        "asks:vous-connaissez", 2, "fr", "vous tu",
        r"\b(?:vous|tu) (?:connaissez|connais|utilisez|utilises|avez|as|auriez|aurais|savez|sais|conseillez|"
        r"conseilles|recommandez|recommandes|faites|fais|gerez|geres|pensez|penses|procedez|traitez|"
        r"cataloguez|classez)\b" + _QTAIL,
    ),
    _rule(
        "asks:connaissez-vous", 3, "fr", "vous tu",
        r"\b(?:connaissez|utilisez|avez|auriez|savez|sauriez|pourriez|pouvez|conseillez|recommandez|pensez|"
        r"faites|gerez|cataloguez|traitez|organisez|procedez|classez)-vous\b|"
        r"\b(?:connais|utilises|as|aurais|sais|saurais|pourrais|peux|conseilles|recommandes|penses|fais|"
        r"geres)-tu\b",
    ),
    _rule(
        "asks:comment-faites-vous", 2, "fr", "comment",
        r"\bcomment (?:faites|gerez|faire|fais|gerer|organisez|organiser|traitez|traiter|cataloguez|"
        r"cataloguer|classez|classer|procedez|proceder|vous|tu|je|on|est-ce|s'y prendre|convaincre)\b",
    ),
    _rule(
        "asks:qu-utilisez-vous", 3, "fr", "utilisez pensez conseillez recommandez quoi",
        r"\bqu'(?:utilisez|en pensez|est-ce que vous|est-ce que tu|conseillez|recommandez)\b|"
        r"\bque (?:pensez|conseillez|recommandez|utilisez)\b|\bvous en pensez quoi\b|"
        r"\bvous (?:utilisez|conseillez|recommandez|prenez) quoi\b|\bvous faites comment\b|\bquoi utiliser\b",
    ),
    _rule(
        "asks:merci-d-avance", 3, "fr", "avance",
        r"\bmerci (?:d'avance|d avance|davance|par avance|a l'avance|beaucoup d'avance|d'avance a)\b",
    ),
    _rule(
        "asks:au-secours", 3, "fr", "secours aide besoin sos",
        r"\bau secours\b|(?:^|[.!?\n:]\s*|\b)a l'aide\s*[!.]|\bbesoin d'aide\b|"
        rf"\bbesoin (?:de |d')(?:vos |votre |quelques |un |une |d'un |d'une |petits? )?{FR_N}\b",
    ),
    _rule(
        "asks:je-cherche", 3, "fr", "cherche recherche aimerais voudrais demande",
        r"\bj(?:e |')(?:cherche|recherche)\b|\bj'aimerais (?:savoir|avoir|trouver|connaitre|vos|votre)\b|"
        r"\bje voudrais (?:savoir|avoir|vos|votre)\b|\bje me demande(?:ais)? (?:si|comment|quel|quelle|ou)\b",
    ),
    _rule(
        "asks:preneuse-de-conseils", 3, "fr",
        "preneur preneuse appel bienvenus bienvenues bienvenu bienvenue apprecies sollicite",
        rf"\b(?:preneu(?:r|se)|appel a|sollicite)(?: \w+){{0,3}}? {FR_N}\b|"
        rf"\b{FR_N}(?: \w+){{0,4}}? (?:bienvenue?s?|apprecie(?:e?s)?)\b",
    ),
    _rule(
        "asks:y-a-t-il", 2, "fr", "y existe il",
        r"\by a-t-il\b|\by-a-t-il\b|\bexiste-t-il\b|\bexiste t il\b|\bil (?:existe|y a) (?:un|une|des)\b" + _QTAIL,
    ),
    _rule(
        "asks:dois-je", 2, "fr", "je on il est ce",
        r"\b(?:dois-je|puis-je|peut-on|faut-il|doit-on|est-il possible|est-ce (?:que )?(?:je|on|c'est|legal|"
        r"possible|normal|grave)|est-ce qu'on)\b|\best-ce qu(?:e |')(?:vous|quelqu|qqn|tu|il y a|on|je)",
    ),
    # ----------------------------------------------------------------- German
    _rule(
        "asks:weiss-jemand", 3, "de", "jemand jemandem jmd irgendwer irgendjemand wer einer eine",
        r"\b(?:weiss|kennt|hat|hatte|kann|konnte|mochte|nutzt|benutzt|verwendet|macht|arbeitet|"
        r"katalogisiert|will|darf|sammelt|betreut|hast|wurde|erinnert)(?: sich)?"
        r"(?: (?:hier|zufallig|vielleicht|von euch|eigentlich|schon|auch|mal|irgendwie|bei euch|damit))* "
        r"(?:jemand|jemandem|jmd|irgendwer|irgendjemand|wer|einer von euch|eine von euch)\b|"
        r"\b(?:jemand|irgendwer|wer)(?: \w+){0,2}? (?:eine? |einen )?(?:idee|ideen|tipp|tipps|empfehlung|"
        r"empfehlungen|erfahrung|erfahrungen|rat|ahnung|hinweis|hinweise|input|losung)\b(?! fur euch)|"
        r"\bwer (?:kennt sich|hat (?:erfahrung|schon|tipps|eine idee|ahnung)|nutzt|kann (?:mir|helfen)|weiss)\b",
    ),
    _rule(
        "asks:kennt-ihr", 2, "de", "ihr",
        r"\b(?:weisst|wisst|kennt|habt|hattet|konnt|konntet|nutzt|benutzt|verwendet|macht|handhabt|lost|"
        r"katalogisiert|empfehlt|wurdet|arbeitet|seid) (?:\w+ )?ihr\b",
    ),
    _rule(
        "asks:sind-hier", 3, "de", "hier",
        r"\b(?:sind|gibt es|gibt's) (?:hier|unter euch) (?:auch )?(?:\w+ ){0,3}?\w+" + _QTAIL
        + r"|\bwas ist (?:der|die|das) (?:beste|einfachste|sinnvollste)\b",
    ),
    _rule(
        "asks:ich-suche", 3, "de", "suche suchen",
        r"\b(?:ich suche|suche nach|bin (?:\w+ )?auf der suche|sind (?:\w+ )?auf der suche|suchen nach)\b|"
        r"(?:^|[.!\n:]\s*)suche\b",
    ),
    _rule(
        "asks:bitte-um-tipps", 3, "de",
        "brauche brauchen benotige benotigen bitte freue freu dankbar wurde suche gesucht willkommen "
        "erwunscht gerne",
        r"\b(?:brauche|brauchen|benotige|benotigen|bitte um|bitten um|freue mich uber|freu mich uber|"
        r"freuen uns uber|dankbar fur|dankbar uber|wurde mich (?:sehr )?uber|suche)(?: \w+){0,3}? "
        rf"{DE_N}\b|\b{DE_N}(?: \w+){{0,2}}? (?:gesucht|willkommen|erwunscht|gerne gesehen|bitte)\b",
    ),
    _rule(
        "asks:hilfe", 3, "de", "hilfe",
        r"(?:^|[.!?\n:]\s*)hilfe\s*[!,:?]|\bhilfe gesucht\b|\bhilfe bitte\b|\bbrauche (?:\w+ ){0,2}?hilfe\b",
    ),
    _rule(
        "asks:danke-im-voraus", 3, "de", "voraus vorab",
        r"\b(?:danke|vielen dank|dank|merci)(?: euch| schon| ihnen)* (?:im voraus|vorab)\b|\bdanke vorab\b",
    ),
    _rule(
        "asks:wie-macht-ihr", 2, "de", "wie was",
        r"\bwie (?:macht|handhabt|lost|organisiert|katalogisiert|kann|konnen|soll|sollte|mache|machen|"
        r"handhabe|handhaben|regelt|regeln|verwaltet|verwalten|geht man|gehe ich|gehen wir|ihr|geht ihr)\b|"
        r"\bwas (?:nutzt|macht|verwendet|empfehlt|haltet|denkt|meint|wurdet|sollte|soll|kann|mache|tun|tut) "
        r"(?:ihr|ich|man|wir)\b",
    ),
    _rule(
        "asks:welche-nutzt-ihr", 3, "de", "welche welchen welcher welches welchem ihr",
        r"\bwelche[nmrs]? (?:\w+ ){0,3}?(?:nutzt|verwendet|empfehlt|benutzt|habt|kennt|wurdet|nehmt|"
        r"katalogisiert) ihr\b",
    ),
    _rule(
        "asks:gibt-es", 2, "de", "gibt darf kann soll muss sollte konnte",
        r"\bgibt(?: es|'s| s)\b" + _QTAIL
        + r"|\b(?:darf|kann|soll|muss|sollte|konnte) (?:ich|man|wir)\b" + _QTAIL,
    ),
    # ---------------------------------------------------------------- Spanish
    _rule(
        "asks:alguien-sabe", 3, "es", "alguien alguno alguna",
        r"\b(?:alguien|algun[oa] de (?:vosotr[oa]s|ustedes|aqui|los presentes))"
        r"(?: (?:aqui|de aqui|por aqui|mas|que|me|nos|sabe|conoce))* "
        r"(?:sabe|sabria|conoce|conoceria|tiene|tendria|ha|habra|usa|utiliza|puede|podria|recomienda|"
        r"trabaja|maneja|conocera|me|nos|tuvo|uso|hizo|hace)\b",
    ),
    _rule(
        "asks:me-podeis", 3, "es", "me nos",
        r"\b(?:me|nos) (?:podeis|pueden|podriais|podrian|puedes|podrias|puede|podria|recomendais|"
        r"recomiendan|recomiendas|aconsejais|aconsejan|ayudais|ayudan|echais|echan|orientais|orientan|"
        r"sugieren|sugeris|decis|dicen)\b",
    ),
    _rule(
        "asks:sabeis", 2, "es",
        "sabeis conoceis teneis usais utilizais recomendais habeis gestionais haceis catalogais opinais "
        "pensais parece trabajais manejais saben conocen tienen usan utilizan recomiendan opinan",
        r"\b(?:sabeis|conoceis|teneis|usais|utilizais|recomendais|habeis|gestionais|haceis|catalogais|"
        r"opinais|pensais|os parece|les parece|trabajais|manejais)\b|"
        r"\b(?:saben|conocen|tienen|usan|utilizan|recomiendan|opinan)\b" + _QTAIL,
    ),
    _rule(
        "asks:por-aqui", 3, "es", "aqui cual cuales",
        r"\b(?:hay|alguna|algun|alguien|algunos|algunas) (?:\w+ ){0,3}?por aqui\b"
        r"|\bcual(?:es)? (?:es|son|seria) (?:la |el |los |las )?(?:mejor(?:es)?|forma mas|manera mas)\b",
    ),
    _rule(
        "asks:busco", 3, "es", "busco buscando",
        r"\b(?:busco|estoy buscando|ando buscando|estamos buscando (?:un|una|algun|alguna|informacion|ideas))\b",
    ),
    _rule(
        "asks:pido-consejos", 3, "es",
        "necesito necesitamos pido agradeceria agradeceriamos agradezco agradece agradecen acepto "
        "agradecere quisiera gustaria bienvenido bienvenida bienvenidos bienvenidas agradecido agradecida "
        "agradecidos agradecidas",
        r"\b(?:necesito|necesitamos|pido|agradeceria|agradeceriamos|agradezco|se agradecen?|acepto|"
        rf"agradecere|quisiera|me gustaria (?:tener|conocer|saber|recibir|leer))(?: \w+){{0,3}}? {ES_N}\b|"
        rf"\b{ES_N}(?: \w+){{0,3}}? (?:bienvenid[oa]s?|se agradecen?|agradecid[oa]s?)\b",
    ),
    _rule(
        "asks:ayuda", 3, "es", "ayuda socorro",
        r"(?:^|[.!?\n:]\s*)ayuda\s*[!,:.?]|\bsocorro\b|\bnecesito (?:\w+ ){0,2}?ayuda\b|\bpido ayuda\b",
    ),
    _rule(
        "asks:gracias-de-antemano", 3, "es", "antemano adelantado anticipadas ya anticipado",
        r"\bgracias (?:de antemano|por adelantado|anticipadas|desde ya|por anticipado)\b",
    ),
    _rule(
        "asks:que-usais", 3, "es", "que como",
        r"\b(?:que|como) (?:\w+ ){0,2}?(?:usais|usan|utilizais|utilizan|recomendais|recomiendan|opinais|"
        r"opinan|os parece|les parece|hariais|harian|haceis|hacen|gestionais|gestionan|manejais|manejan|"
        r"organizais|organizan|catalogais|catalogan|lo haceis|lo hacen)\b",
    ),
    _rule(
        "asks:hay-algun", 2, "es", "hay existe puedo debo deberia puede legal posible tengo",
        r"\b(?:hay|existe) (?:algun|alguna|algo|un|una|algunos|algunas)\b|"
        r"\b(?:puedo|debo|deberia|se puede|es legal|es posible|tengo que)\b" + _QTAIL,
    ),
)

# Not-a-request cues.  Weights say how strongly they argue against.
_NOT_RULES: tuple[_Rule, ...] = (
    _rule(
        "not:did-you-know", 6, None,
        "know dyk saviez wusstet wusstest gewusst wussten sabias sabiais sabian sabeis fact fait",
        r"\bdid you know\b|\bdyk\b|\b(?:le )?saviez-vous\b|\bsaviez vous\b|\bwusstet ihr\b|"
        r"\bwusstest du\b|\bschon gewusst\b|\bwussten sie\b|\bsab(?:ias|iais|ian|eis) que\b|\bfun fact\b|"
        r"\bfait du jour\b",
    ),
    _rule(
        "not:rhetorical", 4, None,
        "who whos else guess wondered believe doesn isn right knew cool awesome great amazing lovely exciting "
        "fun wild cute anything better qui wer quien anyone anybody gibt quoi hay many ever isn wasn aren ain "
        "don am est nicht genial bonito increible talk yet did does",
        r"\bwho(?:'s| is| else)(?: else)? (?:ready|excited|loves?|loving|hates?|enjoys?|with me|joining|"
        r"coming|celebrating|looking forward|counting|survived|else|also|feeling)\b|\bwho else\b|"
        r"\bguess what\b|\bever wondered\b|\bcan you guess\b|\bcan you believe\b|\bwho doesn't\b|"
        r"\b(?:isn't|wasn't|aren't|ain't) (?:it|that|this|they)\b|\bdon't you (?:love|just love|hate|think)\b|"
        r"\bam i right\b|\bn'est-ce pas\b|\b(?:ist|war) (?:es|das) nicht\b|\bno es (?:genial|bonito|increible)\b|"
        r"\bcan we (?:just )?(?:talk|take a moment) about\b|\bis it (?:\w+ ){1,2}yet\b|"
        r"\bwhere (?:did|does) (?:the|this|my) (?:\w+ )?(?:go|went)\b|"
        r"\b(?:has|have|was|were) there ever been\b|\bhow many \w+(?: \w+)? does it take\b|"
        r"\bwhat are you waiting for\b|\bwho knew\b|"
        r"\bhow (?:cool|awesome|great|amazing|lovely|exciting|fun|wild|cute) is (?:that|this)\b|"
        r"\bis there anything (?:better|more|nicer|worse)\b|\bwhat(?:'s| is) (?:better than|not to love)\b|"
        r"\bgibt es (?:etwas|nichts) (?:schoneres|besseres|tolleres)\b|\bquoi de (?:plus|mieux)\b|"
        r"\b(?:y a-t-il|il y a) (?:quelque chose de|rien de) plus\b|\bhay (?:algo|nada) (?:mejor|mas bonito)\b|"
        r"\bqui d'autre\b|\bqui est (?:pret|partant|motive|chaud)|\bqui (?:aime|adore)\b|"
        r"\bwer freut sich\b|\bwer hat (?:auch )?lust\b|\bwer (?:liebt|mag) (?:auch )?|\bwer noch\b|"
        r"\bquien (?:mas|se apunta|no)\b|"
        r"\b(?:any ?one|any ?body) else (?:love|loves|loving|excited|ready|obsessed|counting|celebrating|"
        r"enjoying|adore|adores|feel|feels|feeling)\b",
    ),
    _rule(
        "not:promo-hook", 5, None,
        "?",
        r"\?\s*(?:(?:then|so|well|if so|yes|oui|dann|entonces),? )?(?:join|register|sign up|check out|"
        r"discover|download|don't miss|tune in|grab|click|subscribe|enrol|enroll|learn more|read more|"
        r"read our|come along|come and|come join|we've got you|we have (?:just )?the|look no further|"
        r"you'll love|you need|find out|save your (?:seat|spot|place)|book (?:your|now)|get started|"
        r"try our|meet (?:us|our)|introducing|rejoignez|inscrivez|decouvrez|venez|lisez|telechargez|"
        r"ne manquez|participez|retrouvez|jetzt|meldet euch|melden sie|entdeckt|entdecke|kommt|schaut|"
        r"inscribete|inscribase|apuntate|descubre|no te pierdas|participa|unete)\b|"
        r"(?:^|[.!\n]\s*)(?:need|want|looking for|struggling with|tired of|new to|interested in|curious about|"
        r"ready to|wondering|thinking about|planning)\b[^.!?\n]{0,80}\?\s*(?:we|we've|we're|our|this|it's|"
        r"then|here's|you|look|meet|introducing|let|the answer|say hello)\b",
        back=200,
    ),
    _rule(
        "not:hiring", 6, None,
        "hiring job jobs apply applications application team position role post vacancy recrutons recrute "
        "recrutement emploi postulez poste suchen stellenangebot stellenausschreibung stellenanzeige stelle "
        "bewerben bewerbungsfrist bewerbungsschluss einstellen ein buscamos empleo trabajo vacante busca "
        "convocatoria cv plaza looking seeking recruiting",
        r"\bwe(?:'re| are) hiring\b|\bnow hiring\b|\bhiring:|\bjob (?:opening|opportunity|alert|posting|ad|"
        r"advert|vacancy)\b|\bapply (?:by|now|here|today|before|online|via|at|through)\b|"
        r"\bapplications? (?:close|closing|deadline|are open|open|due)\b|\bjoin (?:our|the) team\b|"
        r"\b(?:position|role|post|vacancy) (?:available|open|is open|is now open)\b|"
        r"\bwe(?:'re| are) (?:looking for|seeking|recruiting) (?:an?|our|two|someone)(?: \w+){0,2}? "
        r"(?:librarian|archivist|assistant|colleague|manager|officer|person|candidate|coordinator|"
        r"technician|cataloguer|cataloger|volunteer|specialist|intern)\b|"
        r"\bnous recrutons\b|\bon recrute\b|\brecrute (?:un|une)\b|\brecrutement\b|\boffre d'emploi\b|"
        r"\bposte (?:a pourvoir|de (?:documentaliste|bibliothecaire))|\bpostulez\b|"
        r"\bwir suchen (?:eine|einen|ab|zum|zur|dich|sie|verstarkung|ein)\b|"
        r"\bstellen(?:angebot|ausschreibung|anzeige)\b|\bstelle (?:frei|zu besetzen|als)\b|"
        r"\bjetzt bewerben\b|\bbewerbungs(?:frist|schluss)\b|\bwir stellen ein\b|"
        r"\boferta de (?:empleo|trabajo)\b|\bbuscamos (?:un|una|a|bibliotecari|documentalista)|\bvacante\b|"
        r"\bse busca\b|\bconvocatoria (?:de|para) (?:plaza|empleo|puesto)|\benvia(?:nos)? (?:tu )?cv\b|"
        r"\bplaza de\b",
        back=80,
    ),
    # Advertising an event (sign-up language) argues harder than mentioning one:
    # "Did anyone record yesterday's webinar?" is still a request.
    _rule(
        "not:event-advert", 2, None,
        "register registration sign signup join rsvp save ticket tickets seats spots places inscriptions "
        "inscription inscrivez rejoignez anmeldung anmelden inscribete inscripcion inscripciones plazas quedan "
        "reste restent",
        r"\bregist(?:er|ration)\b|\bsign up\b|\bsignup\b|\bjoin us\b|\brsvp\b|\bsave the date\b|\btickets?\b|"
        r"\b(?:seats|spots|places) (?:are )?(?:limited|left|available)\b|"
        r"\binscri(?:ptions?|vez-vous|re|bete|pcion|pciones)\b|\brejoignez-nous\b|\banmeld(?:ung|en)\b|"
        r"\bquedan plazas\b|\bil (?:reste|restent) (?:quelques |des )?places\b",
    ),
    _rule(
        "not:event-mention", 1, None,
        "webinar webinars workshop workshops conference webinaire webinaires fortbildung veranstaltung tagung "
        "jornada jornadas seminario taller livestream meetup session panel",
        r"\bwebinars?\b|\bworkshops?\b|\bconference\b|\bwebinaires?\b|\bfortbildung\b|\bveranstaltung\b|"
        r"\btagung\b|\bjornadas?\b|\bseminario web\b|\btaller\b|\blivestream\b|\bmeetup\b|"
        r"\bonline session\b|\bpanel (?:discussion|on)\b",
    ),
    _rule(
        "not:blog-promo", 3, None,
        "new post blog read link latest article nouvel billet lire neuer neue beitrag artikel weiterlesen "
        "nueva nuevo leer episode edition",
        r"\bnew (?:blog )?(?:post|article|episode|video|issue|edition)\b|\b(?:on|to) (?:the|my|our) blog\b|"
        r"\bread (?:more|it here|the full|the whole|all about)\b|\blink in (?:bio|profile)\b|\bour latest\b|"
        r"\bin (?:this|today's|our latest) (?:post|episode|article|issue|edition|video)\b|"
        r"\bnouvel (?:article|episode)\b|\bnouveau billet\b|\ba lire (?:ici|sur)\b|\blire la suite\b|"
        r"\bneuer (?:blog)?(?:beitrag|artikel|post)\b|\bneue (?:folge|episode|ausgabe)\b|"
        r"\bzum (?:artikel|beitrag)\b|\bweiterlesen\b|\bnueva entrada\b|\bnuevo (?:post|articulo|episodio)\b|"
        r"\bleer mas\b|\b(?:en|sur|im|auf) (?:el|le|mi|mon|notre|unserem|meinem|dem) blog\b",
    ),
    _rule(
        "not:promo", 2, None,
        "newsletter podcast subscribe free demo discount off sponsored survey check our notre nos unser get "
        "contact dm email message find learn visit help contactez kontaktieren contactanos ready talk speak "
        "reach "
        "unsere unseren unserem nuestro nuestra nuestros nuestras blog blogpost",
        r"\bnewsletter\b|\bpodcast\b|\bsubscribe\b|\bfree trial\b|\bbook a demo\b|\bdiscount\b|"
        r"\b\d+ ?% off\b|\bsponsored\b|\bsurvey\b|\bcheck out (?:our|my|the new)\b|"
        r"\bour (?:new|latest|free|upcoming|online|next|annual)\b|"
        r"\bnotre (?:nouvelle?|prochaine?|dernier|derniere)\b|\bnos (?:nouveaux|nouvelles|prochains|prochaines)\b|"
        r"\bunser(?:e|en|em)? (?:neue|neuer|neues|neuen|nachste|nachsten|kostenlose)\b|"
        r"\bnuestr[oa]s? (?:nuev[oa]s?|proxim[oa]s?|ultim[oa]s?)\b|\bblog ?post\b|"
        r"\bget in touch\b|\bcontact us\b|\b(?:talk|speak|reach out) to us\b|\b(?:dm|email|message) us\b|\bfind out more\b|\blearn more\b|"
        r"\bvisit our\b|\bwe can help\b|\bcontactez-nous\b|\bkontaktieren sie uns\b|\bcontactanos\b|"
        r"\b(?:is your|are you) (?:\w+ )?ready for\b",
    ),
    _rule(
        "not:announcement", 2, None,
        "available open live out launched published released today excited thrilled delighted proud pleased "
        "announce announcing announcement heureux heureuse heureuses ravi ravie ravis freuen sofort disponible "
        "complace encantados encantadas felices reminder forget oubliez vergessen olvides olvideis olviden",
        r"\bnow (?:available|open|live|out)\b|\bout now\b|\bjust (?:launched|published|released)\b|"
        r"\b(?:published|launched|released|out) (?:today|this week)\b|"
        r"\b(?:excited|thrilled|delighted|proud|pleased) to (?:announce|share|present|launch|welcome|be)\b|"
        r"\bannounc(?:e|ing|ement)\b|\bheureu(?:x|se|ses) de vous (?:annoncer|presenter)\b|"
        r"\bravie?s? de vous\b|\bwir freuen uns\b|\bab sofort\b|\bya disponible\b|\bnos complace\b|"
        r"\bestamos (?:encantad|felices)|\breminder\b|\bdon't forget\b|\bn'oubliez pas\b|\bnicht vergessen\b|"
        r"\bno olvid(?:es|eis|en)\b",
    ),
    _rule(
        "not:quiz", 3, None,
        "quiz quizz trivia guess answer answers test well devinette ratsel rate adivina acertijo vote",
        r"\bquiz\w*|\btrivia\b|\bguess (?:the|which|what|who|how)\b|\banswers? (?:tomorrow|below|in the comments|"
        r"on monday|next week)\b|\btest your\b|\bhow well do you know\b|\bdevinette\b|\bratsel\b|\brate mal\b|"
        r"\badivina\b|\bacertijo\b|\bvote (?:below|now|here)\b|\bcast your vote\b",
    ),
    _rule(
        "not:thanks-after-help", 4, None,
        "thanks thank thx merci danke dank gracias solved resolved resolu gelost resuelto update went ended",
        r"\b(?:thanks|thank you|thx|many thanks|huge thanks|big thanks)(?: so much| again| all| everyone|"
        r" to everyone| to all| to (?:all )?(?:of )?(?:you|the \w+|those|everybody)| y'all| folks| friends)*,? "
        r"(?:who|for (?:all )?(?:the|your|all the|so many|those|these)(?: \w+)? (?:tips|advice|suggestions|"
        r"recommendations|recs|help|replies|answers|responses|input|ideas|pointers|feedback|thoughts|boosts))\b|"
        r"\b(?:solved|resolved)\s*[!:.]|\bupdate: (?:we|i|it|solved|fixed|sorted)\b|"
        r"\b(?:we|i) (?:went|ended up going|decided to go) with\b|"
        r"\bmerci (?:a (?:tous|toutes|vous|toutes et a tous|celles et ceux)|(?:beaucoup )?pour (?:vos|les|tous vos|"
        r"toutes vos)(?: \w+)? (?:conseils|reponses|idees|suggestions|retours|recommandations|pistes|messages))\b|"
        r"\bresolu\b|\b(?:danke|vielen dank|herzlichen dank|danke schon)(?: euch| an alle| nochmal)?,? "
        r"fur (?:die|eure|all die|eure vielen|alle|die vielen)(?: \w+)? (?:tipps|hinweise|antworten|"
        r"ruckmeldungen|empfehlungen|ideen|hilfe|vorschlage)\b|\bgelost\b|"
        r"\b(?:gracias|mil gracias|muchas gracias)(?: a (?:todos|todas|todes))?,? (?:por (?:los|las|vuestros|"
        r"vuestras|sus|todos los|todas las|tantas|tantos)(?: \w+)? (?:consejos|respuestas|ideas|sugerencias|"
        r"recomendaciones|mensajes|ayuda)|a (?:todos|todas|quienes))\b|\bresuelto\b",
    ),
    _rule(
        "not:sharing-advice", 3, None,
        "my here heres top tip tips pro protip psa fyi til learned case anyone happy giving free grabs thread "
        "1 i highly recommend hot unpopular voici mes astuce je ca cela celles ceux mein meine hier empfehle "
        "tipp falls fur mis mi os aqui recomiendo les por comparto consejo",
        r"\bmy (?:top |best |favou?rite |number one )?(?:tips?|advice|recommendations?|suggestions?|"
        r"two cents|2 cents|workflow|process|approach)\b|"
        r"\bhere(?:'s| is| are) (?:my|some|a few|a list|our|the list|\d+)(?: \w+)? (?:tips|ideas|"
        r"recommendations|favou?rites|picks|resources|lessons|thoughts|takeaways|slides|notes|steps|tools|"
        r"of)\b|\btop \d+\b|(?:^|[.!:\n]\s*|\b(?:my|our|these|are|the|with) )\d+ (?:tips|ways|things|reasons|"
        r"ideas|lessons|tools|books|resources|steps|mistakes)\b|\bpro ?tip\b|\btop tip\b|\bpsa\b|\bfyi\b|\btil\b|\btoday i learned\b|"
        r"\bin case (?:anyone|it helps|you|it's useful)\b|\bfor anyone (?:who|looking|interested|curious|"
        r"wondering)\b|\bif anyone (?:needs|wants|is interested|is looking)\b|\bhappy to (?:share|help|send)\b|"
        r"\bgiving away\b|\bfree to (?:a )?good home\b|\bup for grabs\b|\bthread\b|\b1/(?:\d+)?(?=\s|$)|"
        r"\bi (?:highly |strongly |would |'d |can )?recommend\b|\bhighly recommend\b|\bi'd (?:suggest|recommend)\b|"
        r"\bhot take\b|\bunpopular opinion\b|\bvoici (?:mes|quelques|\d+|ma|notre|nos)\b|"
        r"\bmes (?:conseils|astuces|recommandations)\b|\b(?:petite )?astuce du jour\b|"
        r"\bje (?:vous )?(?:recommande|conseille|partage)\b|\bsi (?:ca|cela) peut (?:aider|servir)\b|"
        r"\bpour (?:celles et ceux|ceux) qui\b|\bmeine? (?:tipps?|empfehlung(?:en)?|rat)\b|"
        r"\bhier (?:sind|meine|ein paar|unsere) (?:\w+ )?(?:tipps|ideen|empfehlungen|links|ressourcen|folien)\b|"
        r"\bich empfehle\b|\b(?:kleiner )?tipp:|\bfalls es jemandem\b|\bfur alle,? die\b|"
        r"\bmis (?:consejos|recomendaciones)\b|\bmi consejo\b|\bos dejo\b|\baqui (?:os|van|tienes|teneis|dejo)\b|"
        r"\b(?:os |les )?recomiendo\b|\bpor si a alguien\b|\bcomparto\b|\bconsejo:",
    ),
    _rule(
        "not:engagement-prompt", 3, None,
        "friday monday tuesday wednesday thursday weekend sunday saturday fun daily weekly question frage "
        "pregunta qotd tell drop comment comments know what whats share show lisez lest leeis estais zeigt "
        "muestranos montrez",
        r"\b(?:friday|monday|tuesday|wednesday|thursday|weekend|sunday|saturday|fun|daily|weekly) "
        r"(?:question|poll|prompt|fun|challenge)\b|\bquestion (?:of the|du) (?:day|week|jour|semaine)\b|"
        r"\bfrage (?:der woche|des tages)\b|\bpregunta (?:del dia|de la semana)\b|\bqotd\b|"
        r"\btell us (?:in the|below|your|about your|what)\b|\bdrop (?:your|them|it|a|an) (?:\w+ )?(?:below|in the)\b|"
        r"\bcomment below\b|\bin the comments\b|\blet us know (?:in|below)\b|"
        r"\bwhat are you (?:reading|watching|listening|up to|working on|doing this)\b|"
        r"\bwhat(?:'s| is) everyone (?:reading|up to|doing this)\b|"
        r"\bshare (?:your|a) (?:favou?rite|photo|pic|picture|shelfie|desk)\b|\bshow us (?:your|a)\b|"
        r"\bque lisez-vous\b|\bqu'est-ce que vous lisez\b|\bwas lest ihr\b|\bque (?:estais|estan) leyendo\b|"
        r"\bque leeis\b|\bzeigt (?:uns|mal)\b|\bmuestranos\b|\bmontrez-nous\b",
    ),
    _rule(
        "not:advocacy", 3, None,
        "petition sign write contact call unterschreibt firma signez",
        r"\bsign (?:the|our) petition\b|\bpetition\b|\bwrite to your\b|\bcontact your (?:mp|mep|representative|"
        r"senator|legislator|councillor|councilor|rep)\b|\bcall your (?:mp|representative|senator|legislator|rep)\b|"
        r"\bunterschreibt\b|\bfirma (?:la|nuestra) peticion\b|\bsignez la petition\b",
    ),
)

# Generic question analysis (any language) for questions no phrase rule knows.
# A sentence ending in "?" counts as a direct question when it opens like a
# yes/no or which/where/how question ("Does TinyCat support MARC import?"),
# or opens with what/who/why... *and* involves the writer or the audience
# ("What would you cut first?").  Emotive wh-questions without a person
# ("Who's going?", "Why are vendors like this?") are left alone.
_Q_OPENER_ANY = re.compile(
    r"(?:^|, | - |\x01)\s*(?:is|are|does|do|did|can|could|should|would|will|has|have|am|which|where|how|any|"
    r"est-ce|y a-t-il|peut-on|faut-il|existe-t-il|\w+-(?:t-il|t-elle|vous|je|on)|ou|"
    r"gibt|ist|sind|kann|konnen|konnt|darf|muss|soll|sollte|hat|haben|habt|kennt|lohnt|funktioniert|"
    r"unterstutzt|welche\w*|wo|wie|hay|es|se puede|puede|puedo|debo|existe|cual|cuales|donde|como|funciona|"
    r"vale la pena|sirve)\b"
)
_Q_OPENER_WH = re.compile(
    r"(?:^|, | - |\x01)\s*(?:what|when|why|who|que|qu'est-ce|quel|quelle|quels|quelles|comment|pourquoi|"
    r"combien|was|warum|wann|wer|womit|wozu|cuando|cuant[oa]s?|por que|quien|quienes)\b"
)
_Q_PERSON = re.compile(
    r"\b(?:i|i'm|i've|my|me|we|our|us|you|your|y'all|anyone|anybody|someone|somebody|others|folks|everyone|people|"
    r"je|j'|mon|ma|mes|nous|notre|nos|vous|votre|vos|tu|ton|ta|tes|quelqu'un|"
    r"ich|mich|mir|mein\w*|wir|uns|unser\w*|ihr|euch|eure?\w*|man|jemand|dich|dein\w*|"
    r"yo|mi|mis|nosotr[oa]s|nuestr\w*|vosotr[oa]s|os|vuestr\w*|usted\w*|alguien|te|tus)\b"
)
_Q_VOSOTROS = re.compile(r"\b\w{2,}(?:ais|eis)\b")
_SENTENCE_END = ".!?\n\x01:;"

_THRESHOLD = 3

# key word (bytes) -> indices of the rules it unlocks, per rule family.
_KEY_INDEX: tuple[dict[bytes, tuple[int, ...]], dict[bytes, tuple[int, ...]]] = ({}, {})
for _family, _rules in enumerate((_ASK_RULES, _NOT_RULES)):
    _tmp: dict[bytes, list[int]] = {}
    for _i, _r in enumerate(_rules):
        for _k in _r.keys:
            _tmp.setdefault(_k.encode("ascii"), []).append(_i)
    _KEY_INDEX[_family].update({k: tuple(v) for k, v in _tmp.items()})
_ASK_KEYS = frozenset(_KEY_INDEX[0])
_NOT_KEYS = frozenset(_KEY_INDEX[1])


def _run(rules: tuple[_Rule, ...], index: dict[bytes, tuple[int, ...]], hits: frozenset[bytes] | set[bytes],
         s: str) -> list[_Rule]:
    """Run the rules unlocked by ``hits`` on ``s``; return those that match.

    Each rule starts searching a little before the first occurrence of any
    of its key words, which keeps the regex engine off most of the post.
    """
    todo: set[int] = set()
    for k in hits:
        todo.update(index[k])
    fired: list[_Rule] = []
    for i in sorted(todo):
        rule = rules[i]
        first = len(s)
        for k in rule.keys:
            p = s.find(k)
            if -1 < p < first:
                first = p
        if rule.rx.search(s, max(0, first - rule.back)):
            fired.append(rule)
    return fired


def _question_cues(s: str) -> tuple[bool, bool]:
    """(has a real question mark, has a direct question to/about people).

    Only "?" that end something count (``?`` glued to a following word, as
    left over from odd markup, does not).  For each, the sentence leading up
    to it is checked for an interrogative opener plus a person (I/you/we,
    anyone, vous, ihr, vosotros...), which separates "How do I export MARC
    from LibraryThing?" from "Ready for the weekend?".
    """
    has_q = False
    direct = False
    pos = s.find("?")
    while pos != -1:
        if pos + 1 == len(s) or not s[pos + 1].isalnum():
            has_q = True
            start = max(s.rfind(c, 0, pos) for c in _SENTENCE_END) + 1
            seg = s[start:pos]
            if start > 0 and s[start - 1] == _INVQ:
                seg = _INVQ + seg
            if _Q_OPENER_ANY.search(seg) or (_Q_OPENER_WH.search(seg) and (
                _Q_PERSON.search(seg) or (seg.startswith(_INVQ) and _Q_VOSOTROS.search(seg))
            )):
                direct = True
                break
        pos = s.find("?", pos + 1)
    return has_q, direct


def classify(text: str, lang: str | None = None) -> Verdict:
    """Decide whether a top-level post asks the community for something.

    ``lang`` is the platform's language tag, used only as a hint: a weak
    (weight-2) cue written for that language counts one point more, so a
    German "gibt es ..." in a post tagged ``de`` stands on its own while the
    same words in an untagged post need a second cue such as the question
    mark.  Every rule of every language is applied whatever ``lang`` says,
    because tags are frequently absent or wrong.
    """
    s = normalise(text)
    hint = (lang or "").lower()[:2] or None
    words = set(s.encode("ascii", "ignore").translate(_WORD_TABLE).split())
    if "?" in s:
        words.add(b"?")

    asks = _run(_ASK_RULES, _KEY_INDEX[0], _ASK_KEYS.intersection(words), s)
    nots = _run(_NOT_RULES, _KEY_INDEX[1], _NOT_KEYS.intersection(words), s)
    has_q, direct = _question_cues(s) if "?" in s else (False, False)

    reasons: list[str] = []
    score = 0
    for r in asks:
        if r.slug not in reasons:
            reasons.append(r.slug)
            score += r.weight + (1 if r.weight < 3 and r.lang is not None and r.lang == hint else 0)
    if direct and not asks:
        reasons.append("asks:direct-question")
        score += 2
    if has_q:
        reasons.append("question-mark")
        score += 1

    against: list[str] = []
    penalty = 0
    for r in nots:
        if r.slug not in against:
            against.append(r.slug)
            penalty += r.weight

    if score - penalty >= _THRESHOLD:
        return Verdict(True, tuple(reasons))
    if against:
        return Verdict(False, tuple(against))
    return Verdict(False, ("not:weak-ask",) if score > 0 else ("not:no-ask",))
