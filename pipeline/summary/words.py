"""The words of the weekly summary, in the community's language.

English, French, German and Spanish are built in; any other ``[community]
language`` falls back to English, since a summary in the wrong language is
better than none. Plurals, lists ("a, b and c"), durations and date ranges are
done here, in code, so that a template only places finished sentences and the
organiser never has to write grammar rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Phrases:
    """One language's sentences. ``{n}``-style fields are filled by :mod:`pipeline.summary.compose`."""

    code: str
    heading: str  # {community}, {week_number}, {dates}
    no_requests: str
    requests: tuple[str, str]  # one, many: {asked}
    answered: str  # {answered}, {percent}
    none_answered: str
    median: str  # {median}
    median_before: str  # {median}, {median_before}
    waiting_heading: str
    waiting_item: str  # {age}, {platform}: the link follows
    waiting_more: str  # {n}
    waiting_count: tuple[str, str]  # one, many: {n}, when none of them can be linked
    nothing_waiting: str
    welcome: str  # {names}
    welcome_unnamed: tuple[str, str]  # one, many: {n}
    thanks: str  # {names}
    thanks_unnamed: tuple[str, str]  # one, many: {n}
    others: tuple[str, str]  # "1 other", "{n} others", for lists that end with the unnamed
    conjunction: str
    day: tuple[str, str]
    hour: str
    minute: str
    months: tuple[str, ...]
    date_range: str  # {d1}, {d2}, {month}, {year}
    date_range_months: str  # {d1}, {month1}, {d2}, {month2}, {year}
    date_range_years: str  # {d1}, {month1}, {year1}, {d2}, {month2}, {year2}
    zero_is_singular: bool = False  # French says "0 demande"


EN = Phrases(
    code="en",
    heading="{community}, week {week_number} ({dates})",
    no_requests="No help requests this week.",
    requests=("{asked} help request", "{asked} help requests"),
    answered="{answered} answered ({percent}%).",
    none_answered="none answered yet.",
    median="Median time to a first reply: {median}.",
    median_before="Median time to a first reply: {median} (the week before: {median_before}).",
    waiting_heading="Still waiting for an answer:",
    waiting_item="• {age}, {platform}: ",
    waiting_more="…and {n} more.",
    waiting_count=("1 request is still waiting for an answer.", "{n} requests are still waiting for an answer."),
    nothing_waiting="No request is waiting for an answer.",
    welcome="Welcome to {names}, new here this week!",
    welcome_unnamed=("Welcome to the person who posted here for the first time!",
                     "Welcome to the {n} people who posted here for the first time!"),
    thanks="Thank you for your answers, {names}!",
    thanks_unnamed=("Thank you to the person who answered!", "Thank you to the {n} people who answered!"),
    others=("1 other", "{n} others"),
    conjunction="and",
    day=("{n} day", "{n} days"),
    hour="{n} h",
    minute="{n} min",
    months=("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December"),
    date_range="{d1}–{d2} {month} {year}",
    date_range_months="{d1} {month1} – {d2} {month2} {year}",
    date_range_years="{d1} {month1} {year1} – {d2} {month2} {year2}",
)

FR = Phrases(
    code="fr",
    heading="{community}, semaine {week_number} ({dates})",
    no_requests="Aucune demande d’aide cette semaine.",
    requests=("{asked} demande d’aide", "{asked} demandes d’aide"),
    answered="{answered} avec réponse ({percent} %).",
    none_answered="aucune réponse pour l’instant.",
    median="Délai médian avant une première réponse : {median}.",
    median_before="Délai médian avant une première réponse : {median} (la semaine précédente : {median_before}).",
    waiting_heading="En attente d’une réponse :",
    waiting_item="• {age}, {platform} : ",
    waiting_more="…et {n} de plus.",
    waiting_count=("1 demande attend encore une réponse.", "{n} demandes attendent encore une réponse."),
    nothing_waiting="Aucune demande n’attend de réponse.",
    welcome="Cette semaine, bienvenue à {names} !",
    welcome_unnamed=("Bienvenue à la personne qui a publié ici pour la première fois !",
                     "Bienvenue aux {n} personnes qui ont publié ici pour la première fois !"),
    thanks="Merci pour vos réponses, {names} !",
    thanks_unnamed=("Merci à la personne qui a répondu !", "Merci aux {n} personnes qui ont répondu !"),
    others=("1 autre", "{n} autres"),
    conjunction="et",
    day=("{n} jour", "{n} jours"),
    hour="{n} h",
    minute="{n} min",
    months=("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
            "novembre", "décembre"),
    date_range="{d1}–{d2} {month} {year}",
    date_range_months="{d1} {month1} – {d2} {month2} {year}",
    date_range_years="{d1} {month1} {year1} – {d2} {month2} {year2}",
    zero_is_singular=True,
)

DE = Phrases(
    code="de",
    heading="{community}, Woche {week_number} ({dates})",
    no_requests="Diese Woche keine Hilfeanfragen.",
    requests=("{asked} Hilfeanfrage", "{asked} Hilfeanfragen"),
    answered="{answered} beantwortet ({percent} %).",
    none_answered="noch keine beantwortet.",
    median="Median bis zur ersten Antwort: {median}.",
    median_before="Median bis zur ersten Antwort: {median} (Vorwoche: {median_before}).",
    waiting_heading="Warten noch auf eine Antwort:",
    waiting_item="• {age}, {platform}: ",
    waiting_more="…und {n} weitere.",
    waiting_count=("1 Anfrage wartet noch auf eine Antwort.", "{n} Anfragen warten noch auf eine Antwort."),
    nothing_waiting="Keine Anfrage wartet auf eine Antwort.",
    welcome="Neu dabei diese Woche: willkommen, {names}!",
    welcome_unnamed=("Willkommen an die Person, die hier zum ersten Mal gepostet hat!",
                     "Willkommen an die {n} Personen, die hier zum ersten Mal gepostet haben!"),
    thanks="Danke für eure Antworten, {names}!",
    thanks_unnamed=("Danke an die Person, die geantwortet hat!", "Danke an die {n} Personen, die geantwortet haben!"),
    others=("1 weitere Person", "{n} weitere"),
    conjunction="und",
    day=("{n} Tag", "{n} Tage"),
    hour="{n} Std.",
    minute="{n} Min.",
    months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
            "November", "Dezember"),
    date_range="{d1}.–{d2}. {month} {year}",
    date_range_months="{d1}. {month1} – {d2}. {month2} {year}",
    date_range_years="{d1}. {month1} {year1} – {d2}. {month2} {year2}",
)

ES = Phrases(
    code="es",
    heading="{community}, semana {week_number} ({dates})",
    no_requests="Ninguna petición de ayuda esta semana.",
    requests=("{asked} petición de ayuda", "{asked} peticiones de ayuda"),
    answered="{answered} con respuesta ({percent} %).",
    none_answered="ninguna con respuesta todavía.",
    median="Mediana hasta la primera respuesta: {median}.",
    median_before="Mediana hasta la primera respuesta: {median} (la semana anterior: {median_before}).",
    waiting_heading="Siguen esperando respuesta:",
    waiting_item="• {age}, {platform}: ",
    waiting_more="…y {n} más.",
    waiting_count=("1 petición sigue esperando respuesta.", "{n} peticiones siguen esperando respuesta."),
    nothing_waiting="Ninguna petición espera respuesta.",
    welcome="¡Esta semana damos la bienvenida a {names}!",
    welcome_unnamed=("¡Bienvenida a la persona que publicó aquí por primera vez!",
                     "¡Bienvenida a las {n} personas que publicaron aquí por primera vez!"),
    thanks="¡Gracias por vuestras respuestas, {names}!",
    thanks_unnamed=("¡Gracias a la persona que respondió!", "¡Gracias a las {n} personas que respondieron!"),
    others=("1 más", "{n} más"),
    conjunction="y",
    day=("{n} día", "{n} días"),
    hour="{n} h",
    minute="{n} min",
    months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
            "noviembre", "diciembre"),
    date_range="{d1}–{d2} de {month} de {year}",
    date_range_months="{d1} de {month1} – {d2} de {month2} de {year}",
    date_range_years="{d1} de {month1} de {year1} – {d2} de {month2} de {year2}",
)

LANGUAGES: dict[str, Phrases] = {p.code: p for p in (EN, FR, DE, ES)}


def phrases(language: str) -> Phrases:
    """The phrases for a language tag ("fr", "de-AT", "es_MX"); English when it is not built in."""
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    return LANGUAGES.get(primary, EN)


def plural(p: Phrases, n: int, forms: tuple[str, str], **fields: object) -> str:
    """The singular or plural form for ``n`` (French treats 0 as singular, the others do not)."""
    singular = n == 1 or (p.zero_is_singular and n == 0)
    return forms[0 if singular else 1].format(n=n, **fields)


def join_names(p: Phrases, names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c': the list form every language here shares, with its own conjunction."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {p.conjunction} {names[-1]}"


def duration(p: Phrases, value: timedelta) -> str:
    """A human duration with two units at most: '35 min', '2 h 5 min', '1 day 3 h'."""
    minutes = max(0, round(value.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [plural(p, days, p.day)] + ([p.hour.format(n=hours)] if hours else [])
    elif hours:
        parts = [p.hour.format(n=hours)] + ([p.minute.format(n=mins)] if mins else [])
    else:
        parts = [p.minute.format(n=mins)]
    return " ".join(parts)


def age(p: Phrases, value: timedelta) -> str:
    """How long a request has waited, in one unit: days once it is a day old, else hours, else minutes."""
    minutes = max(0, int(value.total_seconds() // 60))
    if minutes >= 24 * 60:
        return plural(p, minutes // (24 * 60), p.day)
    if minutes >= 60:
        return p.hour.format(n=minutes // 60)
    return p.minute.format(n=minutes)


def date_range(p: Phrases, first: date, last: date) -> str:
    """'16–22 November 2026', or across months/years '30 November – 6 December 2026'."""
    if (first.year, first.month) == (last.year, last.month):
        return p.date_range.format(d1=first.day, d2=last.day, month=p.months[first.month - 1], year=first.year)
    if first.year == last.year:
        return p.date_range_months.format(d1=first.day, month1=p.months[first.month - 1], d2=last.day,
                                          month2=p.months[last.month - 1], year=first.year)
    return p.date_range_years.format(d1=first.day, month1=p.months[first.month - 1], year1=first.year,
                                     d2=last.day, month2=p.months[last.month - 1], year2=last.year)
