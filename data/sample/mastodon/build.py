#!/usr/bin/env python3
"""Build the bundled Mastodon sample community (standard library only).

Two weeks (Monday 2026-11-09 to Sunday 2026-11-22) of a solo-librarian
community seen from three Mastodon servers. For each host this writes, next
to this file:

    <host>/instance.json   the host's GET /api/v2/instance answer
    <host>/statuses.json   every status the host has, newest first, as the
                           host's REST API presents them (its own local ids)
    <host>/deleted.json    local ids deleted after collection (404 now)

and README.md, whose tables of ids are generated here so they can't drift.

Run ``python data/sample/mastodon/build.py``: the output is deterministic
(ids come from timestamps and hashes, never from a random generator or the
clock), so a rebuild that changes nothing leaves the files identical. The run
ends by validating what it wrote (``--check`` validates without rewriting).

People, firms, ids and links are invented; glammr.us and mastodon.social are
real servers, used here only as names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent

G = "glammr.us"
M = "mastodon.social"
L = "libraryland.example"
HOSTS = (G, M, L)

WATCHED = ("sololibrarians", "sololibrarian", "onepersonlibrary", "librarians")

# Where each server keeps uploaded files (avatars, media, custom emoji).
MEDIA_ROOT = {
    G: "https://glammr.us/system",
    M: "https://files.mastodon.social",
    L: "https://libraryland.example/system",
}

APPS = {
    "web": {"name": "Web", "website": None},
    "ivory": {"name": "Ivory for iOS", "website": "https://tapbots.com/ivory/"},
    "tusky": {"name": "Tusky", "website": "https://tusky.app"},
    "phanpy": {"name": "Phanpy", "website": "https://phanpy.social"},
    "elk": {"name": "Elk", "website": "https://elk.zone"},
    "ios": {"name": "Mastodon for iOS", "website": "https://app.joinmastodon.org/ios"},
    "android": {"name": "Mastodon for Android", "website": "https://app.joinmastodon.org/android"},
    "digest": {"name": "sololibs-digest", "website": None},
}


# --------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------
# fields: (name, value as typed, verified_at or None). Values and notes are
# rendered to HTML the way Mastodon does (hashtags and links become anchors).

ACCOUNTS: dict[str, dict] = {
    # ---- glammr.us -------------------------------------------------------
    "analima": dict(
        host=G, display_name="Ana Lima", created="2022-11-06", app="ivory",
        note="Solo law librarian at a 140-lawyer firm in Toronto. Legal research, knowledge "
        "management, far too many passwords.\n\nAlso on Bluesky as analima.bsky.social "
        "#LawLibrarians #SoloLibrarians",
        fields=[("Pronouns", "she/her", None),
                ("Bluesky", "https://bsky.app/profile/analima.bsky.social", None),
                ("Website", "https://analima.ca", "2024-03-02T18:22:10.414+00:00")],
        followers=812, following=440, statuses=2310, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    "mhollis": dict(
        host=G, display_name="Margaret Hollis", created="2022-11-12", app="web",
        note="Clinical librarian (and the whole library team) at a district general hospital "
        "in the Midlands. Literature searches, journal clubs, evidence for the busy. #medlibs",
        fields=[("Pronouns", "she/her", None), ("Works for", "Knowledge & Library Services, NHS", None)],
        followers=1204, following=388, statuses=5120, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    "layla": dict(
        host=G, display_name="Layla Haddad | ليلى حداد", created="2023-01-21", app="phanpy",
        note="Librarian & archivist (team of one) at a small art museum. Artists' books, "
        "exhibition catalogues, Arabic-script cataloguing. She/her 🎨📚",
        fields=[("Languages", "English, العربية, some French", None)],
        followers=655, following=501, statuses=1893, discoverable=True, indexable=False,
        avatar=True, header=False,
    ),
    "priya": dict(
        host=G, display_name='Priya <Law Lib> & "Co" :lawbook:', created="2023-02-14", app="web",
        note="Information & knowledge manager at a boutique litigation firm in London. "
        "I am the library. Tea-powered.",
        fields=[("Firm size", "60 fee earners, 1 of me", None)],
        emojis=["lawbook"],
        followers=431, following=290, statuses=977, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    "jmoreno": dict(
        host=G, display_name="Javier Moreno", created="2023-05-03", app="tusky",
        note="Bibliotecario escolar en un colegio público de Sevilla. Clubes de lectura, "
        "préstamos y mucha paciencia. Escribo en español y a veces en inglés.",
        fields=[("Idiomas", "español, English", None)],
        followers=298, following=315, statuses=604, discoverable=True, indexable=True,
        avatar=True, header=False,
    ),
    "rosa": dict(
        host=G, display_name="Rosa Feld", created="2023-08-19", app="web",
        note="Librarian, team of one, at a botanic garden library. Seed catalogues, herbarium "
        "books, the occasional snail. 🐌",
        fields=[],
        followers=187, following=203, statuses=342, discoverable=True, indexable=False,
        noindex=True, avatar=True, header=False,
    ),
    "deb": dict(
        host=G, display_name="Deb Ainsworth", created="2022-11-02", app="elk",
        note="Retired special librarian: 35 years, mostly solo (a chemicals company, a "
        "charity, a small college). Now I answer questions on here for fun. "
        "#SoloLibrarians #OnePersonLibrary",
        fields=[("Retired since", "2021", None)],
        followers=1530, following=612, statuses=8841, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    # ---- mastodon.social --------------------------------------------------
    "dkowalski": dict(
        host=M, display_name="Dana Kowalski 📚", created="2022-12-01", app="ios",
        note="K–8 school librarian in Ohio. 600 kids, one me. Graphic novels are real books.",
        fields=[("Pronouns", "she/her", None)],
        followers=344, following=410, statuses=1211, discoverable=False, indexable=True,
        avatar=True, header=True,
    ),
    "bernie": dict(
        host=M, display_name="Bernadette O'Hara", created="2022-11-20", app="web",
        note="Prison librarian in the north of England. Books, bureaucracy, biscuits. "
        "Views my own. #nobot",
        fields=[],
        followers=276, following=190, statuses=733, discoverable=True, indexable=False,
        avatar=True, header=False,
    ),
    "kwame": dict(
        host=M, display_name="Kwame Asante", created="2022-11-08", app="web",
        note="Solo clinical librarian at a teaching hospital in Manchester. Evidence searching, "
        "journal clubs, persuading doctors that the catalogue exists.",
        fields=[("Pronouns", "he/him", None)],
        followers=702, following=534, statuses=2650, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    "tobias": dict(
        host=M, display_name="Tobias Brandt", created="2022-11-15", app="tusky",
        note="Bibliothekar in einer One-Person-Library: die Bibliothek des Stadtmuseums. "
        "Ausstellungskataloge, Nachlässe, Heimatgeschichte. Schreibe auf Deutsch und Englisch.",
        fields=[("Pronomen", "er/ihm", None)],
        followers=389, following=276, statuses=1422, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    "sam": dict(
        host=M, display_name="Sam Whitfield", created="2023-03-09", app="web",
        note="Library & information officer (solo) at an engineering consultancy in Leeds. "
        "Standards, technical reports, asking vendors awkward questions.",
        fields=[],
        followers=233, following=251, statuses=518, discoverable=True, indexable=True,
        avatar=True, header=False,
    ),
    "noor": dict(
        host=M, display_name="Noor Rahman", created="2023-06-30", app="ivory",
        note="Solo librarian at a small policy think tank. Research support, news monitoring, "
        "spreadsheets.",
        fields=[("Pronouns", "she/they", None)],
        followers=402, following=377, statuses=990, discoverable=True, indexable=False,
        avatar=True, header=True,
    ),
    "emily": dict(
        host=M, display_name="Emily Tran", created="2026-10-18", app="android",
        note="New solo librarian at a community college satellite campus. Learning out loud. she/her",
        fields=[],
        followers=41, following=118, statuses=0, discoverable=True, indexable=True,
        avatar=False, header=False,
    ),
    "greta": dict(
        host=M, display_name="Greta Lindqvist", created="2023-09-12", app="web",
        note="Librarian (one-person) at a marine science research institute. Journals, data "
        "and a great deal of fish.",
        fields=[("Pronouns", "she/her", None),
                ("Search", "#noindex: please don't index or archive my posts", None)],
        followers=158, following=164, statuses=287, discoverable=True, indexable=False,
        hide_collections=True, avatar=True, header=False,
    ),
    "aroha": dict(
        host=M, display_name="Aroha Ngata", created="2022-11-11", app="web",
        note="Law librarian at a small firm in Wellington, Aotearoa. Legal research training, "
        "Kiwi case law, and a soft spot for web security.",
        fields=[("Pronouns", "she/her", None)],
        followers=521, following=433, statuses=1766, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    # ---- libraryland.example ---------------------------------------------
    "claire": dict(
        host=L, display_name="Claire Dubois", created="2023-04-02", app="web",
        note="Professeure documentaliste dans un collège de la banlieue lyonnaise. Seule au "
        "CDI, jamais seule dans ma tête. #profdoc #documentaliste",
        fields=[("Langues", "français, English", None)],
        followers=212, following=240, statuses=845, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    "marta": dict(
        host=L, display_name="Marta Gil", created="2023-04-11", app="web",
        note="Bibliotecaria (sola) en la biblioteca de un hospital universitario en Valencia. "
        "Búsquedas bibliográficas, formación a residentes, café.",
        fields=[],
        followers=176, following=198, statuses=431, discoverable=True, indexable=True,
        avatar=True, header=False,
    ),
    "owen": dict(
        host=L, display_name="Owen Price", created="2023-03-28", app="web",
        note="Librarian (the only one) at a small theological college in Wales. I also run "
        "libraryland.example, a tiny server for library workers. Llyfrgellydd.",
        fields=[("Server", "https://libraryland.example/about", None)],
        roles=[{"id": "3", "name": "Owner", "color": ""}],
        followers=264, following=301, statuses=1105, discoverable=True, indexable=True,
        avatar=True, header=True,
    ),
    "pat": dict(
        host=L, display_name="Pat Nguyen", created="2023-06-05", app="web",
        note="Librarian at an architecture practice. Solo. Product literature, standards, and "
        "rescuing drawings from skips.",
        fields=[("Pronouns", "they/them", None)],
        followers=143, following=167, statuses=389, discoverable=True, indexable=True,
        avatar=True, header=False,
    ),
    "digest": dict(
        host=L, display_name="Solo Librarians Weekly 🤖", created="2024-01-07", app="digest",
        note="Every Sunday: the week's #SoloLibrarians questions that are still waiting for an "
        "answer. Automated account, run by @owen",
        fields=[("Maintainer", "@owen", None), ("Schedule", "Sundays, 18:00 UTC", None)],
        bot=True,
        followers=388, following=0, statuses=97, discoverable=True, indexable=True,
        avatar=True, header=False,
    ),
    "freece": dict(
        host=L, display_name="Library CE Credits 📚✨", created="2026-11-18", app="web",
        note="FREE CE credits for busy librarians!!! New webinars every week!!!",
        fields=[],
        followers=2, following=611, statuses=0, discoverable=None, indexable=False,
        avatar=False, header=False,
    ),
}

# Instance contact accounts: local, never post in the sample.
ADMINS: dict[str, dict] = {
    "glammr": dict(
        host=G, display_name="glammr.us admin", created="2022-11-01", app="web",
        note="Admin account for glammr.us, a server for galleries, libraries, archives and museums.",
        fields=[], roles=[{"id": "3", "name": "Owner", "color": ""}],
        followers=3120, following=12, statuses=204, discoverable=True, indexable=False,
        avatar=True, header=False, last_status_at="2026-11-03",
    ),
    "support": dict(
        host=M, display_name="mastodon.social support", created="2022-11-01", app="web",
        note="Service announcements and help for mastodon.social.",
        fields=[], roles=[{"id": "3", "name": "Owner", "color": ""}],
        followers=98200, following=3, statuses=611, discoverable=True, indexable=False,
        avatar=True, header=True, last_status_at="2026-10-29",
    ),
}

ALL_ACCOUNTS = {**ACCOUNTS, **ADMINS}

CUSTOM_EMOJIS = {
    # shortcode: (home host, id on home host, category)
    "lawbook": (G, 11394, "Libraries"),
}

# --------------------------------------------------------------------------
# Statuses
# --------------------------------------------------------------------------
# a: author; t: created (UTC, 2026); hosts: which servers have it (the
# author's home first); re: the status it replies to; vis: visibility.
# Text is written as typed: blank line = new paragraph, #tag, @user, URLs.

MEDIA = {
    "seedcats": dict(
        description="A pile of colourful seed and nursery trade catalogues from the 1920s to the "
        "1960s on a library table, next to a box of index cards.",
        width=1600, height=1200, blurhash="UHFY3t~q4nIU-;t7WBof%MWBofj[IUt7ofWB",
    ),
    "cake": dict(
        description="A lemon drizzle cake on a book trolley loaded with old hardback theology "
        "books, each with a paper slip sticking out.",
        width=1200, height=1600, blurhash="UEG[.y~q%M9F_3t7M{of00IU%MM{?bofRjWB",
    ),
}

CARDS = {
    "jobad": dict(
        url="https://careers.northbridge-engineering.example/jobs/2026/library-information-officer",
        title="Library & Information Officer (0.6 FTE), Glasgow",
        description="Run the library and information service for our Glasgow office: standards, "
        "technical reports and research support for 120 engineers.",
        provider_name="Northbridge Engineering careers",
        provider_url="https://careers.northbridge-engineering.example",
    ),
    "meetup": dict(
        url="https://events.artlibs.example/small-libraries-big-collections-2026",
        title="Small Libraries, Big Collections: online meetup",
        description="Free online meetup for art museum and special collections librarians working "
        "alone or in tiny teams.",
        provider_name="Art Libraries Events",
        provider_url="https://events.artlibs.example",
    ),
    "slides": dict(
        url="https://hollis-library.example.net/talks/2026-11-lit-search-solo.pdf",
        title="Running a literature search service on your own (slides)",
        description="",
        provider_name="hollis-library.example.net",
        provider_url="",
    ),
    "rencontre": dict(
        url="https://framaforms.example.org/rencontre-docs-seuls-novembre",
        title="Rencontre en ligne des professeurs documentalistes seuls",
        description="Inscription à la rencontre du mercredi 25 novembre, 14 h.",
        provider_name="Framaforms",
        provider_url="https://framaforms.example.org",
        language="fr",
    ),
}

# What a hostile server could send: raw, unsanitised HTML (libraryland.example
# serves this as-is, which a real Mastodon never would).
SPAM_HTML = (
    '<p>FREE CE credits for busy solo librarians!!! 🎓 Register today '
    '<img src=x onerror=alert(1)> <a href="javascript:alert(document.cookie)">'
    "https://free-ce-credits.example/register</a></p>"
    '<p><a href="https://libraryland.example/tags/SoloLibrarians" class="mention hashtag" rel="tag">'
    '#<span>SoloLibrarians</span></a> <a href="https://libraryland.example/tags/librarians" '
    'class="mention hashtag" rel="tag">#<span>librarians</span></a></p>'
)

S = dict  # readability below

POSTS: list[dict] = [
    # ======================= week 1: 9-15 November =======================
    S(k="h_timetrack", a="pat", t="11-09 10:15:42", hosts=[L, G, M], fav=9, rb=2,
      text="Monday question for the #SoloLibrarians: how do you track time spent on research "
      "requests? The partners want to know where my week goes, and \"busy\" is apparently not "
      "an answer. #OnePersonLibrary"),
    S(k="r_timetrack_priya", a="priya", t="11-09 13:02:18", re="h_timetrack", hosts=[G, L], fav=6,
      text="@pat I use Toggl (free tier), with one project per practice group. Ten seconds per "
      "request, and the monthly report writes itself."),
    S(k="r_timetrack_pat", a="pat", t="11-09 13:30:51", re="r_timetrack_priya", hosts=[L, G],
      vis="unlisted", fav=1, text="@priya Toggl it is. Thank you!"),
    S(k="r_timetrack_noor", a="noor", t="11-10 09:41:05", re="h_timetrack", hosts=[M, L], fav=4,
      text="@pat Low-tech option: a paper tally sheet by the phone for one month. Crude, but it "
      "convinced our director I needed a second monitor, never mind a second person."),

    S(k="h_budget", a="analima", t="11-09 14:03:11", hosts=[G, M, L], fav=14, rb=5,
      text="Solo law librarians: the partners want to cut either Westlaw or Lexis at renewal. I "
      "need usage numbers that aren't just the vendor reports. What do you actually track, and "
      "what convinced your partners?\n\n#SoloLibrarians #LawLibrarians"),
    S(k="r_budget_priya", a="priya", t="11-09 14:23:40", re="h_budget", hosts=[G, M], fav=11,
      text="@analima I log every research request in a simple spreadsheet: matter number, what "
      "was asked, which resource answered it, rough time saved. After a year it was the single "
      "most persuasive thing I had. Happy to share the template."),
    S(k="r_budget_chain", a="analima", t="11-09 14:48:55", re="r_budget_priya", hosts=[G, M],
      vis="unlisted", fav=2,
      text="@priya Yes please, that would be brilliant 🙏 Did you count interlibrary loans and "
      "document supply in the same sheet?"),
    S(k="r_budget_priya2", a="priya", t="11-09 15:10:02", re="r_budget_chain", hosts=[G],
      vis="unlisted", fav=1, text="@analima Separate tab, same columns. Sending you the link by DM."),
    S(k="r_budget_self", a="analima", t="11-09 17:12:09", re="h_budget", hosts=[G, M, L], fav=3,
      text="Some context, since people asked: 140 lawyers across two offices, renewal is in "
      "February, and I'm the only information person. Both platforms get used, just by "
      "different practice groups."),

    S(k="h_graphic", a="dkowalski", t="11-09 19:40:27", hosts=[M, G], fav=12, rb=3,
      text="K–8 librarian, 600 kids, just me. Looking for graphic novel recs for reluctant 7th "
      "graders that are unlikely to end up on the school board's agenda. What's actually "
      "circulating for you? #librarians #SchoolLibrarians"),
    S(k="r_graphic_deb", a="deb", t="11-10 01:52:14", re="h_graphic", hosts=[G, M], fav=8,
      text="@dkowalski \"New Kid\" and \"Class Act\" by Jerry Craft never stayed on the shelf at my "
      "last school, and the Amulet series is a gateway for the fantasy kids. Anything by Raina "
      "Telgemeier, obviously."),
    S(k="r_graphic_thanks", a="dkowalski", t="11-10 07:31:40", re="r_graphic_deb", hosts=[M, G],
      vis="unlisted", fav=2, text="@deb Thank you! New Kid is already on order, adding Amulet now."),

    S(k="h_ils", a="tobias", t="11-10 08:15:52", lang="de", hosts=[M, G, L], fav=7, rb=2,
      text="Frage an andere OPLs: Welches Bibliothekssystem nutzt ihr für eine kleine "
      "Museumsbibliothek (ca. 8.000 Bände)? Wir müssen weg von unserem alten System, und ich "
      "weiß nicht, ob Koha für eine einzelne Person zu groß ist.\n\nGrüße aus dem Stadtmuseum!"
      "\n\n#OPL #OnePersonLibrary #Bibliothek"),
    S(k="r_ils_layla", a="layla", t="11-12 09:04:37", re="h_ils", hosts=[G, M], fav=5,
      text="@tobias We run Koha for about 11,000 items at a small art museum, and I'm the only "
      "librarian. The key was paying a support company to host it: I never touch the server, "
      "I just catalogue. Happy to tell you more."),
    S(k="r_ils_thanks", a="tobias", t="11-12 10:27:19", re="r_ils_layla", lang="de", hosts=[M, G],
      fav=1,
      text="@layla Danke, das hilft sehr! Gehostet klingt vernünftig. Darf ich fragen, was das "
      "ungefähr im Jahr kostet? Gern auch per DM."),

    S(k="n_jobad", a="sam", t="11-10 12:00:33", hosts=[M, G, L], fav=11, rb=9, card="jobad",
      text="We're hiring! Our Glasgow office needs a part-time (0.6 FTE) Library & Information "
      "Officer. It's a solo post: you'd run the whole service there (standards, technical "
      "reports, research requests), and you'd have me in Leeds to moan to. Closing date 30 "
      "November.\n\nhttps://careers.northbridge-engineering.example/jobs/2026/library-information-officer"
      "\n\n#librarians #LibraryJobs #SoloLibrarians"),
    S(k="b_jobad_kwame", a="kwame", t="11-10 12:41:09", boost="n_jobad", hosts=[M, G]),

    S(k="h_cdi", a="claire", t="11-10 16:20:08", lang="fr", hosts=[L, G], fav=6, rb=1,
      text="Question aux collègues profs docs seul·es dans leur CDI : comment gérez-vous "
      "l'accueil des élèves pendant la pause méridienne quand vous avez aussi une classe en "
      "séance ? J'ai l'impression de courir partout et de ne rien faire correctement…"
      "\n\n#documentaliste #profdoc #OnePersonLibrary"),

    S(k="h_looseleaf", a="aroha", t="11-11 09:02:15", hosts=[M, G], fav=5, rb=1,
      text="Law firm librarians: has anyone cancelled their print looseleaf services and gone "
      "online-only? Our partners are nervous about \"losing the books\", and the update "
      "invoices are eye-watering. How did you sell it? #LawLibrarians #SoloLibrarians"),
    S(k="r_looseleaf_ana", a="analima", t="11-11 14:30:00", re="h_looseleaf", hosts=[G, M], fav=7,
      text="@aroha We did it over two years: cancelled the titles nobody had filed updates for in "
      "months (the dust was my evidence), and kept the two the litigation partners really use. "
      "Nobody has asked for the others since."),

    S(k="n_alerts", a="mhollis", t="11-11 10:05:44", hosts=[G, M, L], fav=22, rb=8,
      text="Did you know? Most databases let you save a search and email yourself the new "
      "results every month. I turn those into a one-page \"new evidence\" digest per specialty, "
      "and it's the cheapest, most appreciated thing I do. Ten minutes a month per topic. "
      "#medlibs #SoloLibrarians"),

    S(k="h_first90", a="emily", t="11-11 15:30:19", hosts=[M, G, L], fav=31, rb=6,
      text="New solo librarian here (3 weeks in!) at a community college satellite campus. The "
      "previous librarian left zero documentation. Where do I even start? Does anyone have a "
      "checklist for the first 90 days of running a one-person library? "
      "#sololibrarian #librarians"),
    S(k="r_first90_margaret", a="mhollis", t="11-11 15:50:02", re="h_first90", hosts=[G, M],
      fav=18,
      text="@emily Welcome! First month: mostly listen. Keep a log of every question you're "
      "asked, who asked it, and how you answered. By week six you'll know what the library is "
      "actually for on your campus, which is rarely what the website says. #SoloLibrarians"),
    S(k="r_first90_deb", a="deb", t="11-11 19:48:31", re="h_first90", hosts=[G, M], fav=15,
      text="@emily Two things, in this order: write down every password and login you can find, "
      "today. Then find out who signs off your budget and have coffee with them before you "
      "need anything from them."),
    S(k="r_first90_private", a="kwame", t="11-11 21:15:47", re="h_first90", hosts=[M],
      vis="private", fav=1,
      text="@emily Our college library had exactly this problem last year. Happy to do a video "
      "call and walk you through the handover document we wrote afterwards. No pressure!"),
    S(k="r_first90_thanks", a="emily", t="11-12 08:10:55", re="r_first90_margaret", hosts=[M, G],
      fav=3, text="@mhollis This is so reassuring, thank you. Starting the log this morning."),
    S(k="r_first90_owen", a="owen", t="11-12 12:37:26", re="h_first90", hosts=[L, M], fav=6,
      text="@emily And check when the journal and database renewals fall due! Mine all arrived in "
      "my first December with no budget line attached. Ask finance for last year's invoices."),

    S(k="h_truecrime", a="bernie", t="11-11 20:10:03", hosts=[M, G], fav=4,
      cw="Prison library policy, mentions crime",
      text="Prison librarians: how do you handle requests for true crime books about cases "
      "involving people held in the same establishment? Our policy is vague and I'd rather not "
      "make it up on the wing. #librarians #PrisonLibraries"),
    S(k="r_truecrime_noor", a="noor", t="11-11 22:34:50", re="h_truecrime", hosts=[M], fav=3,
      cw="Prison library policy, mentions crime",
      text="@bernie Not a prison, but the youth charity library I worked at had a \"harm to "
      "identifiable people\" clause in its collection policy, decided case by case with the "
      "safeguarding lead. Happy to send you the wording."),

    S(k="h_zotero", a="marta", t="11-12 11:00:14", lang="es", hosts=[L, G, M], fav=8, rb=2,
      text="Pregunta para bibliotecarias de hospital que trabajan solas: ¿qué gestor de "
      "referencias recomendáis a los residentes? A mí me encanta Zotero, pero el servicio de "
      "informática no deja instalar nada en los ordenadores. ¿Alguien usa solo la versión web?"
      "\n\n#bibliotecarios #SoloLibrarians"),
    S(k="r_zotero_javier", a="jmoreno", t="11-12 13:32:48", re="h_zotero", lang="es", hosts=[G, L],
      fav=3,
      text="@marta Nosotros usamos Zotero web con el conector del navegador, que sí nos dejaron "
      "instalar porque es una extensión. Para lo que necesitan los residentes, sobra."),
    S(k="r_zotero_kwame", a="kwame", t="11-14 11:29:31", re="h_zotero", hosts=[M, L], fav=4,
      text="@marta Same IT problem here. ZoteroBib (https://zbib.org) needs no install and no "
      "account, and it covers most of what our residents ask me for. Worth a look."),

    S(k="h_leaflet", a="greta", t="11-12 14:45:37", hosts=[M, L], fav=5,
      text="Does anyone have a nice template for a one-page \"library services\" leaflet for a "
      "research institute? Ours is from 2014 and still lists a fax number. "
      "#OnePersonLibrary #librarians"),
    S(k="r_leaflet_pat", a="pat", t="11-12 19:58:12", re="h_leaflet", hosts=[L, M], fav=3,
      text="@greta I rebuilt ours in Canva last spring: services on the front, \"what I can get "
      "you within 24 hours\" on the back. I can share it as a template if you'd like to borrow "
      "the layout."),

    S(k="n_meetup", a="layla", t="11-12 16:00:21", hosts=[G, M, L], fav=13, rb=7, card="meetup",
      text="Art museum & special collections librarians: our free online meetup \"Small "
      "Libraries, Big Collections\" is on Thursday 19 November, 15:00 UTC. Short talks on "
      "cataloguing artists' books on a shoestring, then open chat.\n\nSign up: "
      "https://events.artlibs.example/small-libraries-big-collections-2026"
      "\n\n#SoloLibrarians #ArtLibraries",
      edit=S(t="11-12 16:41:07", stale=[L],
             text="Art museum & special collections librarians: our free online meetup \"Small "
             "Libraries, Big Collections\" is on Thursday 19 November, 16:00 UTC (corrected, "
             "sorry!). Short talks on cataloguing artists' books on a shoestring, then open chat."
             "\n\nSign up: https://events.artlibs.example/small-libraries-big-collections-2026"
             "\n\n#SoloLibrarians #ArtLibraries")),

    S(k="h_xss", a="sam", t="11-13 09:20:45", hosts=[M, G], fav=16, rb=4,
      text="Slightly alarmed. After a web security webinar I typed <script>alert(1)</script> "
      "into the search box of our new discovery layer, and it popped up an alert box. I'm a "
      "solo corporate librarian with no IT security team to ask. How do I report this to the "
      "vendor without sounding unhinged? #librarians #SoloLibrarians"),
    S(k="r_xss_aroha", a="aroha", t="11-13 10:01:12", re="h_xss", hosts=[M], fav=12,
      text="@sam That's a reflected XSS and absolutely worth reporting. Look for a security.txt "
      "(https://discovery-vendor.example/.well-known/security.txt) or a \"responsible "
      "disclosure\" page. Keep it factual: the URL, exactly what you typed, a screenshot. "
      "You're doing them a favour."),

    S(k="h_volunteers", a="owen", t="11-13 13:00:06", hosts=[L, G], fav=7, rb=1,
      text="Theological college library, staff of one (me). About 40% of a big donated "
      "collection is still uncatalogued. Has anyone used volunteers for copy cataloguing "
      "successfully? How did you train them, and what did you let them do? "
      "#SoloLibrarians #OnePersonLibrary"),
    S(k="r_vol_deb", a="deb", t="11-13 16:12:40", re="h_volunteers", hosts=[G, L], fav=6,
      text="@owen Yes: one retired teacher, two mornings a week, MarcEdit plus copy records from "
      "WorldCat. A one-page cheat sheet, and I checked every record for the first month. After "
      "that, spot checks."),
    S(k="r_vol_owen", a="owen", t="11-13 16:40:09", re="r_vol_deb", hosts=[L, G], vis="unlisted",
      fav=1,
      text="@deb A cheat sheet is a great idea. Did you let them add subject headings, or only "
      "the descriptive bits?"),
    S(k="r_vol_deb2", a="deb", t="11-14 09:03:27", re="r_vol_owen", hosts=[G, L], vis="unlisted",
      fav=2,
      text="@owen Descriptive only. I did the subjects myself on Friday afternoons with a pot of "
      "tea ☕"),

    S(k="h_newsmon", a="noor", t="11-13 17:45:59", hosts=[M, G, L], fav=6, rb=2,
      text="Solo librarian at a small think tank. Researchers want a proper news monitoring "
      "service and Factiva is miles out of budget. What do other one-person libraries use? "
      "RSS plus something clever? #SoloLibrarians #SpecialLibraries"),

    S(k="n_journalclub", a="kwame", t="11-14 10:00:12", hosts=[M, G], fav=27, rb=3,
      text="Huge thanks to everyone in #SoloLibrarians who answered my question about journal "
      "club formats last month. We ran the first one on Thursday: 14 junior doctors, one "
      "paper, 40 minutes, and nobody fell asleep. 🎉"),

    S(k="n_clubexpress", a="jmoreno", t="11-14 12:20:00", lang="es", hosts=[G, L], fav=19, rb=4,
      text="¿Sabíais que un club de lectura puede durar 15 minutos? Esta semana probamos un "
      "«club exprés» en el recreo: un capítulo, tres preguntas y fuera. Vinieron 23 chavales. "
      "¡Todavía no me lo creo! 📚\n\n#BibliotecaEscolar #bibliotecarios #SoloLibrarians"),

    S(k="h_seedcat", a="rosa", t="11-14 15:02:50", hosts=[G, M], fav=21, rb=5, media=["seedcats"],
      text="Botanic garden library, team of one: does anyone else catalogue nursery and seed "
      "trade catalogues? I keep going back and forth between treating them as serials and as "
      "ephemera. (Photo: this week's donation, 1920s to 1960s.) "
      "#OnePersonLibrary #SoloLibrarians"),
    S(k="r_seedcat_layla", a="layla", t="11-14 17:10:33", re="h_seedcat", hosts=[G, M], fav=6,
      text="@rosa We treat trade catalogues as ephemera: one collection-level record per firm, "
      "plus an item list in a spreadsheet. Cataloguing them as serials was a nightmare of "
      "irregular numbering."),

    S(k="n_digest1", a="digest", t="11-15 18:00:00", hosts=[L, M, G], fav=10, rb=4,
      text="Solo Librarians Weekly, 9–15 November 🗂️\n\nStill waiting for a first answer:\n"
      "• Lunchtime supervision in a one-person CDI (in French): {url:h_cdi}\n"
      "• News monitoring without Factiva: {url:h_newsmon}\n\n"
      "Busiest thread: the first 90 days as a new solo librarian, {url:h_first90}\n\n"
      "Replies to this account are read by @owen #SoloLibrarians"),

    # ======================= week 2: 16-22 November ======================
    S(k="h_taxonomy", a="priya", t="11-16 09:30:17", hosts=[G, M], fav=9, rb=2,
      text="Does anyone have a matter-centric KM taxonomy they'd be willing to share? Our "
      "precedents folder is a swamp. UK litigation firm, about 60 fee earners, and I'm the "
      "only knowledge person. #LawLibrarians #SoloLibrarians"),
    S(k="r_tax_ana", a="analima", t="11-16 09:50:31", re="h_taxonomy", hosts=[G, M], fav=5,
      text="@priya Ours is built on the practice-area list from our time recording system. "
      "Lawyers already know those categories, so they actually use them. I'll send you the "
      "top two levels."),
    S(k="r_tax_aroha", a="aroha", t="11-16 14:04:09", re="h_taxonomy", hosts=[M, G], fav=4,
      text="@priya @analima +1 to reusing practice areas. And keep it to three levels at most: "
      "nobody clicks any deeper than that."),

    S(k="n_cake", a="owen", t="11-16 11:15:30", lang=None, hosts=[L, G], fav=34, rb=2,
      media=["cake"],
      text="First morning with our cataloguing volunteer. She brought a lemon drizzle cake and "
      "finished 31 records. Best day of term. #OnePersonLibrary"),

    S(k="h_limits", a="dkowalski", t="11-16 20:00:40", hosts=[M, G], fav=7,
      text="Question for school librarians: do you let 5th graders take more than 2 books home at "
      "once? Our limit is a relic from before my time and I want to raise it, but I need "
      "ammunition for the principal. #librarians #SchoolLibrarians"),
    S(k="r_limits_emily", a="emily", t="11-16 23:12:08", re="h_limits", hosts=[M], fav=4,
      text="@dkowalski Not K–8, but our campus went from 3 to 10 items last year and losses "
      "didn't change at all. The numbers are in our annual report if that helps."),

    S(k="h_facilities", a="emily", t="11-17 08:30:26", hosts=[M, G], fav=3,
      text="Is it normal for a one-person library to report to facilities management rather than "
      "to anyone academic? Asking for a friend (the friend is me). #sololibrarian"),
    S(k="r_fac_deb", a="deb", t="11-17 15:41:52", re="h_facilities", hosts=[G, M], fav=5,
      text="@emily More common than you'd think, and not always bad. Facilities managers often "
      "have a budget and fewer opinions about cataloguing."),

    S(k="h_rda", a="tobias", t="11-17 11:00:09", lang="de", hosts=[M, L, G], fav=4, rb=1,
      text="Kennt jemand eine gute, knappe Anleitung für die Katalogisierung von "
      "Ausstellungskatalogen nach RDA, die man auch ohne Katalogisierungsabteilung bewältigen "
      "kann? Das Regelwerk ist riesig und ich bin allein. #OPL #OnePersonLibrary"),
    S(k="r_rda_layla", a="layla", t="11-17 11:20:44", re="h_rda", hosts=[G, M], fav=3,
      text="@tobias Not German-specific, but the art library societies have published short "
      "best-practice guides for exhibition catalogues, and the decisions are the same under "
      "RDA. I'll dig out the ones I use and send them over."),

    S(k="h_productlit", a="pat", t="11-17 15:03:31", hosts=[L, M], fav=3,
      text="Architecture practice librarians: how are you handling manufacturers' product "
      "literature now that it's all online? Do you still keep anything physical, or is it all "
      "bookmarks and prayer? #SoloLibrarians #ArchLibraries"),

    S(k="n_slides", a="mhollis", t="11-17 17:00:55", hosts=[G, M, L], fav=25, rb=11, card="slides",
      text="Slides from my talk \"Running a literature search service on your own\" are now "
      "online: https://hollis-library.example.net/talks/2026-11-lit-search-solo.pdf\n\nThank "
      "you to everyone who came to the regional health libraries day, and for all the "
      "questions! #medlibs #SoloLibrarians"),
    S(k="b_slides_marta", a="marta", t="11-17 19:02:13", boost="n_slides", hosts=[L, G]),

    S(k="h_survey", a="marta", t="11-18 10:00:48", lang="es", hosts=[L, G], fav=5,
      text="¿Alguien tiene una plantilla de encuesta de satisfacción para una biblioteca de "
      "hospital? Con la nueva dirección tengo que justificar el servicio antes de fin de año. "
      "#bibliotecarios #OnePersonLibrary"),
    S(k="r_survey_margaret", a="mhollis", t="11-18 12:16:03", re="h_survey", hosts=[G, L], fav=7,
      text="@marta I have one in English: ten questions, three minutes to fill in. Happy to "
      "share, and most of it translates directly. The question that matters most to managers: "
      "\"Did the information you received change anything you did for a patient?\""),
    S(k="r_survey_thanks", a="marta", t="11-18 12:40:30", re="r_survey_margaret", lang="es",
      hosts=[L, G], vis="unlisted", fav=1, text="@mhollis ¡Sí, por favor! Muchísimas gracias 🙏"),

    S(k="n_rencontre", a="claire", t="11-18 14:00:02", lang="fr", hosts=[L, M], fav=6, rb=3,
      card="rencontre",
      text="Rappel : rencontre en ligne des profs docs seul·es dans leur établissement, mercredi "
      "25 novembre à 14 h. Thème : préparer la Semaine de la presse sans y laisser sa santé. "
      "Inscription : https://framaforms.example.org/rencontre-docs-seuls-novembre"
      "\n\n#documentaliste #profdoc #OnePersonLibrary"),

    S(k="n_pratchett", a="bernie", t="11-18 19:30:45", hosts=[M, G], fav=40, rb=9,
      text="Our book group on B wing has now read every one of Terry Pratchett's City Watch "
      "novels. I asked what they'd like next. They voted, unanimously, for more Pratchett. "
      "#librarians #PrisonLibraries"),

    S(k="h_videos", a="aroha", t="11-18 21:00:13", hosts=[M, G], fav=6, rb=1,
      text="Law firm librarians: has anyone moved their legal research training to short "
      "videos? Which tool did you use, and did the lawyers actually watch them? "
      "#LawLibrarians #SoloLibrarians"),
    S(k="r_videos_ana", a="analima", t="11-19 13:25:40", re="h_videos", hosts=[G, M], fav=9,
      text="@aroha We tried. They watched the first one. Now I run 15-minute \"lunch & learn\" "
      "sessions with actual lunch, and attendance is far better 🍕"),
    S(k="r_videos_priya", a="priya", t="11-20 22:09:58", re="h_videos", hosts=[G, M], fav=5,
      text="@aroha Loom, three-minute videos, each linked from the intranet page for that "
      "database. Completion rates are dismal, but people rewatch them at 11pm the night before "
      "a deadline, which is exactly when I'm not at my desk."),

    S(k="n_xss_update", a="sam", t="11-19 09:00:37", hosts=[M, G], fav=29, rb=5,
      text="Update on the discovery layer XSS: the vendor replied within a day, has fixed it for "
      "the next release, and thanked me. Thanks, all, for the encouragement to report it. "
      "#librarians"),

    S(k="n_spam", a="freece", t="11-19 13:13:13", hosts=[L], raw=SPAM_HTML,
      tags=["sololibrarians", "librarians"]),

    S(k="h_copyright", a="layla", t="11-19 16:30:22", hosts=[G, M, L], fav=8, rb=2,
      text="Question for museum and special libraries: how do you handle researcher requests for "
      "images of items that are still in copyright? Our registrar has decided it's my problem "
      "now. 🙃 #OnePersonLibrary #ArtLibraries #librarians"),
    S(k="r_copy_tobias", a="tobias", t="11-19 19:05:17", re="h_copyright", hosts=[M, G], fav=6,
      text="@layla We only supply low-resolution reference scans ourselves and point researchers "
      "to the rights holder (or the collecting society) for anything they want to publish. It "
      "saves a lot of arguments."),
    S(k="r_copy_thanks", a="layla", t="11-19 19:44:02", re="r_copy_tobias", hosts=[G, M], fav=2,
      text="@tobias That's sensible, thank you. Putting \"reference scans only\" into our policy "
      "draft."),

    S(k="h_consortium", a="greta", t="11-20 10:00:30", hosts=[M, G], fav=4, rb=1,
      text="Has anyone negotiated e-journal licences as part of a consortium when you're a "
      "one-person library? A few research institutes near us want to join forces. Where do we "
      "even start? #OnePersonLibrary #SoloLibrarians"),

    S(k="n_history", a="deb", t="11-20 14:03:11", hosts=[G, M, L], fav=33, rb=12,
      text="Did you know the term \"one-person library\" was popularised by Guy St. Clair back "
      "in the 1970s and 80s? Decades on, we're still explaining that one person can run a "
      "proper library. 💪 #OnePersonLibrary #SoloLibrarians"),

    S(k="h_lostbooks", a="jmoreno", t="11-20 17:05:49", lang="es", hosts=[G, L], fav=5,
      text="¿Cómo gestionáis los libros perdidos en una biblioteca escolar? ¿Se los cobráis a las "
      "familias o los dais por perdidos? Me da pena cobrar, pero el presupuesto es de risa. "
      "#BibliotecaEscolar #bibliotecarios #SoloLibrarians"),
    S(k="r_lost_claire", a="claire", t="11-21 09:12:36", re="h_lostbooks", lang="fr", hosts=[L, G],
      fav=4,
      text="@jmoreno Chez nous, on ne fait pas payer, mais on demande un livre de remplacement, "
      "même d'occasion. Ça marche plutôt bien, et les familles préfèrent. #OnePersonLibrary"),

    S(k="n_emily_thanks", a="emily", t="11-20 20:20:20", hosts=[M, G], fav=38, rb=2,
      text="Two weeks of reading #SoloLibrarians every morning and I've already fixed three "
      "problems I didn't know I had. Thank you, strangers. 💛"),

    S(k="h_triage", a="kwame", t="11-21 10:30:15", hosts=[M, G, L], fav=17, rb=6,
      text="Health librarians working solo: how do you prioritise when three \"urgent\" "
      "literature search requests land on the same morning? I want a fair triage rule I can "
      "publish on our intranet. #medlibs #SoloLibrarians"),
    S(k="r_triage_margaret", a="mhollis", t="11-21 10:50:40", re="h_triage", hosts=[G, M], fav=14,
      text="@kwame Mine: direct patient care first, then anything with a real external deadline "
      "(guideline, grant, court), then everything else in the order it arrived. Publish it and "
      "point at it. It ends the arguments."),
    S(k="r_triage_thanks", a="kwame", t="11-21 11:52:03", re="r_triage_margaret", hosts=[M, G],
      fav=3, text="@mhollis Brilliant, stealing this word for word. #SoloLibrarians"),
    S(k="r_triage_marta", a="marta", t="11-21 16:02:11", re="h_triage", lang="es", hosts=[L, M],
      fav=5,
      text="@kwame Nosotros usamos casi lo mismo, y además el formulario pregunta «¿para cuándo "
      "lo necesitas de verdad?». Las urgencias se reducen a la mitad."),

    S(k="n_budget_done", a="analima", t="11-21 15:30:44", hosts=[G, M, L], fav=41, rb=3,
      text="Budget review done: we're keeping both Westlaw and Lexis, largely thanks to the usage "
      "spreadsheet idea from this community. You're all wonderful. "
      "#SoloLibrarians #LawLibrarians"),

    S(k="h_dashboards", a="noor", t="11-22 11:00:08", hosts=[M, G], fav=3,
      text="Weekend question: what's your favourite free tool for simple library statistics "
      "dashboards? Excel has started fighting back. #SoloLibrarians #librarians"),

    S(k="n_digest2", a="digest", t="11-22 18:00:00", hosts=[L, M, G], fav=8, rb=3,
      text="Solo Librarians Weekly, 16–22 November 🗂️\n\nStill waiting for a first answer:\n"
      "• Product literature in architecture practices: {url:h_productlit}\n"
      "• E-journal consortia for one-person libraries: {url:h_consortium}\n"
      "• Free tools for library statistics dashboards: {url:h_dashboards}\n\n"
      "Busiest thread: triaging \"urgent\" literature searches, {url:h_triage}\n\n"
      "Replies to this account are read by @owen #SoloLibrarians"),
]

DELETED = {"h_facilities"}  # deleted by its author on 2026-11-19, after collection

# What each post is, for the README (requests are questions asking for help).
KIND = {
    "h_": "request", "r_": "reply", "n_": "non-request", "b_": "boost",
}

# --------------------------------------------------------------------------
# Helpers: time, ids, hashes
# --------------------------------------------------------------------------


def when(s: str) -> datetime:
    return datetime.strptime("2026-" + s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def digest(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def hexname(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def snowflake(dt: datetime, *salt: object) -> str:
    """Mastodon-style id: milliseconds since the epoch << 16, plus 16 low bits."""
    ms = int(dt.timestamp() * 1000)
    return str((ms << 16) | (digest(*salt) & 0xFFFF))


def partition(ident: str) -> str:
    """Paperclip's id_partition: the id in groups of three digits."""
    s = ident.zfill(9)
    return "/".join(s[i:i + 3] for i in range(0, len(s), 3))


# --------------------------------------------------------------------------
# HTML as Mastodon renders it
# --------------------------------------------------------------------------


def h(text: str) -> str:
    """ERB::Util.html_escape (Rails): note &#39; for the apostrophe."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


TOKEN_RE = re.compile(
    r"(?P<url>https?://[^\s<>\"]+)"
    r"|(?<![=/)\w])#(?P<tag>\w+)"
    r"|(?<![=/\w])@(?P<user>[A-Za-z0-9_]+)"
)
TRAILING = ".,;:!?)»\"'"


def shortened_link(url: str, rel_me: bool = False) -> str:
    rel = "nofollow noopener me" if rel_me else "nofollow noopener"
    m = re.match(r"https?://(www\.)?|xmpp:", url)
    prefix = m.group(0) if m else ""
    rest = url[len(prefix):]
    display, suffix, cutoff = rest[:30], rest[30:], len(rest) > 30
    if len(suffix) == 1:  # Mastodon reverts a one-character truncation
        display, suffix, cutoff = display + suffix, "", False
    return (f'<a href="{h(url)}" target="_blank" rel="{rel}" translate="no">'
            f'<span class="invisible">{h(prefix)}</span>'
            f'<span class="{"ellipsis" if cutoff else ""}">{h(display)}</span>'
            f'<span class="invisible">{h(suffix)}</span></a>')


def link_hashtag(tag: str, origin: str) -> str:
    return (f'<a href="https://{origin}/tags/{h(tag)}" class="mention hashtag" rel="tag">'
            f"#<span>{h(tag)}</span></a>")


def link_mention(username: str) -> str:
    acc = ALL_ACCOUNTS[username]
    return (f'<span class="h-card" translate="no"><a href="https://{acc["host"]}/@{username}" '
            f'class="u-url mention">@<span>{h(username)}</span></a></span>')


def format_line(line: str, origin: str, rel_me: bool) -> tuple[str, list[str], list[str]]:
    out, tags, mentions, pos = [], [], [], 0
    for m in TOKEN_RE.finditer(line):
        start, end = m.start(), m.end()
        if start < pos:  # overlapping match (cannot happen with this text)
            continue
        if m.group("url"):
            url = m.group("url")
            while url and url[-1] in TRAILING:
                url = url[:-1]
            end = start + len(url)
            piece = shortened_link(url, rel_me)
        elif m.group("tag"):
            piece = link_hashtag(m.group("tag"), origin)
            tags.append(m.group("tag").lower())
        else:
            user = m.group("user")
            if user not in ALL_ACCOUNTS:
                continue
            piece = link_mention(user)
            mentions.append(user)
        out.append(h(line[pos:start]))
        out.append(piece)
        pos = end
    out.append(h(line[pos:]))
    return "".join(out), tags, mentions


def format_text(text: str, origin: str, multiline: bool = True, rel_me: bool = False):
    """TextFormatter + simple_format: paragraphs in <p>, line breaks as <br />."""
    tags: list[str] = []
    mentions: list[str] = []
    paragraphs = []
    for para in text.split("\n\n"):
        lines = []
        for line in para.split("\n"):
            html, t, mt = format_line(line, origin, rel_me)
            lines.append(html)
            tags += t
            mentions += mt
        paragraphs.append("<br />".join(lines))
    html = "".join(f"<p>{p}</p>" for p in paragraphs) if multiline else "<br />".join(paragraphs)
    return html, list(dict.fromkeys(tags)), list(dict.fromkeys(mentions))


A_TAG_RE = re.compile(r"<a ([^>]*)>")
ATTR_RE = re.compile(r'([\w-]+)="([^"]*)"')


def sanitize_remote(html: str) -> str:
    """What a receiving server does to a remote post's HTML (Sanitize MASTODON_STRICT):
    every link gets rel="nofollow noopener" (replacing rel="tag"/"me") and target="_blank"."""

    def fix(m: re.Match) -> str:
        attrs = ATTR_RE.findall(m.group(1))
        names = [k for k, _ in attrs]
        attrs = [(k, "nofollow noopener" if k == "rel" else v) for k, v in attrs]
        if "rel" not in names:
            attrs.append(("rel", "nofollow noopener"))
        if "target" not in names:
            attrs.append(("target", "_blank"))
        return "<a " + " ".join(f'{k}="{v}"' for k, v in attrs) + ">"

    return A_TAG_RE.sub(fix, html)


# --------------------------------------------------------------------------
# Build the world
# --------------------------------------------------------------------------

BY_KEY = {p["k"]: p for p in POSTS}
for p in POSTS:
    p.setdefault("lang", "en")
    p.setdefault("vis", "public")
    p.setdefault("cw", "")
    p["dt"] = when(p["t"])
    p["origin"] = ALL_ACCOUNTS[p["a"]]["host"]
    assert p["hosts"][0] == p["origin"], p["k"]

ORIGIN_ID = {p["k"]: snowflake(p["dt"], p["origin"], p["k"]) for p in POSTS}


def uri_of(key: str) -> str:
    p = BY_KEY[key]
    base = f"https://{p['origin']}/users/{p['a']}/statuses/{ORIGIN_ID[key]}"
    return base + "/activity" if "boost" in p else base


def url_of(key: str) -> str:
    p = BY_KEY[key]
    if "boost" in p:
        return uri_of(key)
    return f"https://{p['origin']}/@{p['a']}/{ORIGIN_ID[key]}"


URI = {k: uri_of(k) for k in BY_KEY}
LOCAL_ID = {
    (host, p["k"]): (ORIGIN_ID[p["k"]] if host == p["origin"] else snowflake(p["dt"], host, URI[p["k"]]))
    for p in POSTS for host in p["hosts"]
}


def resolve_placeholders(text: str) -> str:
    return re.sub(r"\{url:(\w+)\}", lambda m: url_of(m.group(1)), text)


for p in POSTS:
    if "text" in p:
        p["text"] = resolve_placeholders(p["text"])


def account_local_id(username: str, host: str) -> str:
    acc = ALL_ACCOUNTS[username]
    created = datetime.fromisoformat(acc["created"]).replace(tzinfo=UTC)
    if acc["host"] == host:
        return snowflake(created + timedelta(seconds=digest(username, "signup") % 86400), host, username)
    # First seen by this host some days after the account was created.
    seen = created + timedelta(days=1 + digest(host, username) % 40, seconds=digest(username, host) % 86400)
    seen = min(seen, datetime(2026, 11, 8, tzinfo=UTC) + timedelta(seconds=digest(host, username) % 3600))
    return snowflake(seen, host, "account", username)


def emoji_json(shortcode: str, host: str) -> dict:
    home, ident, category = CUSTOM_EMOJIS[shortcode]
    if host == home:
        name = hexname("emoji", shortcode)
        base = f"{MEDIA_ROOT[host]}/custom_emojis/images/{partition(str(ident))}"
        return {"shortcode": shortcode, "url": f"{base}/original/{name}.png",
                "static_url": f"{base}/static/{name}.png", "visible_in_picker": True,
                "category": category}
    local = str(20000 + digest(host, "emoji", shortcode) % 80000)
    name = hexname(host, "emoji", shortcode)
    base = f"{MEDIA_ROOT[host]}/cache/custom_emojis/images/{partition(local)}"
    return {"shortcode": shortcode, "url": f"{base}/original/{name}.png",
            "static_url": f"{base}/static/{name}.png", "visible_in_picker": False}


def last_status_dates() -> dict[tuple[str, str], str]:
    latest: dict[tuple[str, str], datetime] = {}
    for p in POSTS:
        for host in p["hosts"]:
            key = (host, p["a"])
            if key not in latest or p["dt"] > latest[key]:
                latest[key] = p["dt"]
    return {k: v.date().isoformat() for k, v in latest.items()}


LAST_STATUS = last_status_dates()
POST_COUNT = {u: sum(1 for p in POSTS if p["a"] == u) for u in ALL_ACCOUNTS}


def account_json(username: str, host: str) -> dict:
    acc = ALL_ACCOUNTS[username]
    home = acc["host"]
    local = home == host
    ident = account_local_id(username, host)
    note_html, _, _ = format_text(acc["note"], home)
    fields = []
    for name, value, verified in acc["fields"]:
        value_html, _, _ = format_text(value, home, multiline=False, rel_me=True)
        fields.append({"name": name, "value": value_html if local else sanitize_remote(value_html),
                       "verified_at": verified})

    def image(kind: str, present: bool, ext: str) -> str:
        if not present:
            return f"https://{host}/{kind}s/original/missing.png"
        folder = f"accounts/{kind}s/{partition(ident)}/original/{hexname(host, kind, username)}.{ext}"
        return f"{MEDIA_ROOT[host]}/{folder}" if local else f"{MEDIA_ROOT[host]}/cache/{folder}"

    avatar = image("avatar", acc["avatar"], "png")
    header = image("header", acc["header"], "jpg")
    out = {
        "id": ident,
        "username": username,
        "acct": username if local else f"{username}@{home}",
        "display_name": acc["display_name"],
        "locked": acc.get("locked", False),
        "bot": acc.get("bot", False),
        "discoverable": acc["discoverable"],
        "indexable": acc["indexable"],
        "group": False,
        "created_at": iso(datetime.fromisoformat(acc["created"]).replace(tzinfo=UTC)),
        "note": note_html if local else sanitize_remote(note_html),
        "url": f"https://{home}/@{username}",
        "uri": f"https://{home}/users/{username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": "",
        "header": header,
        "header_static": header,
        "header_description": "",
        "followers_count": acc["followers"],
        "following_count": acc["following"],
        "statuses_count": acc["statuses"] + POST_COUNT[username],
        "last_status_at": (LAST_STATUS.get((host, username)) or LAST_STATUS.get((home, username))
                           or acc.get("last_status_at")),
        "hide_collections": acc.get("hide_collections", False),
    }
    if local:  # Mastodon only sends noindex (and roles) for its own accounts
        out["noindex"] = acc.get("noindex", False)
    out["emojis"] = [emoji_json(code, host) for code in acc.get("emojis", [])]
    if local:
        out["roles"] = acc.get("roles", [])
    out["fields"] = fields
    return out


def media_json(name: str, post: dict, host: str, index: int) -> dict:
    m = MEDIA[name]
    ident = snowflake(post["dt"] - timedelta(seconds=40 - index), host, "media", name)
    origin = post["origin"]
    origin_ident = snowflake(post["dt"] - timedelta(seconds=40 - index), origin, "media", name)
    origin_file = hexname(origin, "media", name)
    origin_url = (f"{MEDIA_ROOT[origin]}/media_attachments/files/{partition(origin_ident)}"
                  f"/original/{origin_file}.jpeg")
    if host == origin:
        base, fname = f"{MEDIA_ROOT[host]}/media_attachments/files/{partition(ident)}", origin_file
    else:
        base = f"{MEDIA_ROOT[host]}/cache/media_attachments/files/{partition(ident)}"
        fname = hexname(host, "media", name)
    w, hgt = m["width"], m["height"]
    sw, sh = (640, round(640 * hgt / w)) if w >= hgt else (round(640 * w / hgt), 640)
    return {
        "id": ident,
        "type": "image",
        "url": f"{base}/original/{fname}.jpeg",
        "preview_url": f"{base}/small/{fname}.jpeg",
        "remote_url": None if host == origin else origin_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {
            "original": {"width": w, "height": hgt, "size": f"{w}x{hgt}", "aspect": w / hgt},
            "small": {"width": sw, "height": sh, "size": f"{sw}x{sh}", "aspect": sw / sh},
        },
        "description": m["description"],
        "blurhash": m["blurhash"],
    }


def card_json(name: str) -> dict:
    c = CARDS[name]
    return {
        "url": c["url"], "title": c["title"], "description": c["description"],
        "language": c.get("language", "en"), "type": "link",
        "author_name": "", "author_url": "", "provider_name": c["provider_name"],
        "provider_url": c["provider_url"], "html": "", "width": 0, "height": 0, "image": None,
        "image_description": "", "embed_url": "", "blurhash": None, "published_at": None,
        "authors": [],
    }


def replies_count(key: str, host: str) -> int:
    return sum(1 for p in POSTS if p.get("re") == key and host in p["hosts"] and p["vis"] != "direct")


def reblogs_count(key: str) -> int:
    p = BY_KEY[key]
    boosts = sum(1 for q in POSTS if q.get("boost") == key)
    return max(p.get("rb", 0), boosts)


def quote_approval(post: dict) -> dict:
    public = post["vis"] in ("public", "unlisted")
    return {"automatic": ["public"] if public else [], "manual": [], "current_user": "denied"}


def status_json(key: str, host: str) -> dict:
    p = BY_KEY[key]
    local = host == p["origin"]
    ident = LOCAL_ID[(host, key)]
    if "boost" in p:
        inner = status_json(p["boost"], host)
        out = {
            "id": ident, "created_at": iso(p["dt"]), "in_reply_to_id": None,
            "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
            "visibility": p["vis"], "language": None, "uri": URI[key],
            "url": url_of(key) if local else None,  # a remote boost has no url of its own
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0,
            "edited_at": None, "content": "", "reblog": inner,
        }
        if local:
            out["application"] = None
        out.update({
            "account": account_json(p["a"], host), "media_attachments": [], "mentions": [],
            "tags": [], "emojis": [], "quote": None, "card": None, "poll": None,
            "quote_approval": inner["quote_approval"],
        })
        return out

    edit = p.get("edit")
    stale = edit is not None and host in edit["stale"]
    text = edit["text"] if edit and not stale else p.get("text")
    if "raw" in p:
        content, tags, mentions = p["raw"], p["tags"], []
    else:
        content, tags, mentions = format_text(text, p["origin"])
        if not local:
            content = sanitize_remote(content)
    parent = p.get("re")
    out = {
        "id": ident,
        "created_at": iso(p["dt"]),
        "in_reply_to_id": LOCAL_ID[(host, parent)] if parent else None,
        "in_reply_to_account_id": account_local_id(BY_KEY[parent]["a"], host) if parent else None,
        "sensitive": False,
        "spoiler_text": p["cw"],
        "visibility": p["vis"],
        "language": p["lang"],
        "uri": URI[key],
        "url": url_of(key),
        "replies_count": replies_count(key, host),
        "reblogs_count": reblogs_count(key),
        "favourites_count": p.get("fav", 0),
        "quotes_count": 0,
        "edited_at": iso(when(edit["t"])) if edit and not stale else None,
        "content": content,
        "reblog": None,
    }
    if local:
        out["application"] = APPS[ALL_ACCOUNTS[p["a"]]["app"]]
    out.update({
        "account": account_json(p["a"], host),
        "media_attachments": [media_json(n, p, host, i) for i, n in enumerate(p.get("media", []))],
        "mentions": [
            {"id": account_local_id(u, host), "username": u,
             "url": f"https://{ALL_ACCOUNTS[u]['host']}/@{u}",
             "acct": u if ALL_ACCOUNTS[u]["host"] == host else f"{u}@{ALL_ACCOUNTS[u]['host']}"}
            for u in mentions
        ],
        "tags": [{"name": t, "url": f"https://{host}/tags/{t}"} for t in tags],
        "emojis": [],
        "quote": None,
        "card": card_json(p["card"]) if p.get("card") else None,
        "poll": None,
        "quote_approval": quote_approval(p),
    })
    return out


# --------------------------------------------------------------------------
# Instances
# --------------------------------------------------------------------------

PUBLIC = {"local": "public", "remote": "public"}
REMOTE_LOGIN = {"local": "public", "remote": "authenticated"}

INSTANCES = {
    G: dict(
        title="glammr", version="4.5.1", contact="glammr", email="admin@glammr.us",
        description="A Mastodon server for people who work in galleries, libraries, archives and "
        "museums (GLAM), and anyone interested in them.",
        users=5410, max_chars=500, languages=["en"], registrations=(True, True),
        feeds=dict(live=PUBLIC, topic=PUBLIC), translation=True,
        rules=["Be kind. No harassment, hate speech or discrimination.",
               "Add alt text to your images.",
               "Use content warnings for sensitive topics.",
               "No spam or undisclosed advertising."],
    ),
    M: dict(
        title="Mastodon", version="4.5.2", contact="support", email="staff@mastodon.social",
        description="The original server operated by the Mastodon gGmbH non-profit",
        users=290000, max_chars=500, languages=["en"], registrations=(True, False),
        # Logged-out visitors see this server's own hashtag posts only: the remote
        # setting is shared by hashtag and trending-link feeds (one admin setting).
        feeds=dict(live=PUBLIC, topic=REMOTE_LOGIN), translation=True,
        rules=["Sexually explicit or violent media must be marked as sensitive when posting",
               "No racism, sexism, homophobia, transphobia, xenophobia, or casteism",
               "No incitement of violence or promotion of violent ideologies",
               "No harassment, dogpiling or doxxing of other users",
               "Do not share intentionally false or misleading information"],
    ),
    L: dict(
        title="Libraryland", version="4.5.0", contact="owen", email="owen@libraryland.example",
        description="A tiny Mastodon server for library workers, especially the ones who work "
        "alone. Run by one librarian in Wales.",
        users=38, max_chars=1000, languages=["en", "cy"], registrations=(True, True),
        feeds=dict(live=PUBLIC, topic=PUBLIC), translation=False,
        rules=["Be kind to each other and to patrons.", "No spam, no selling.",
               "Alt text on images, please."],
    ),
}


def instance_json(host: str) -> dict:
    cfg = INSTANCES[host]
    enabled, approval = cfg["registrations"]
    root = MEDIA_ROOT[host]
    thumb = f"{root}/site_uploads/files/000/000/001/@1x/{hexname(host, 'thumb')}.png"
    return {
        "domain": host,
        "title": cfg["title"],
        "version": cfg["version"],
        "source_url": "https://github.com/mastodon/mastodon",
        "description": cfg["description"],
        "usage": {"users": {"active_month": cfg["users"]}},
        "thumbnail": {
            "url": thumb,
            "blurhash": "UeKUpFxuo~R%0nW;WCnhF6RjaJt757oJodS$",
            "versions": {"@1x": thumb, "@2x": thumb.replace("/@1x/", "/@2x/")},
        },
        "icon": [
            {"src": f"https://{host}/packs/media/icons/android-chrome-{s}x{s}-{hexname(host, s)[:20]}.png",
             "size": f"{s}x{s}"}
            for s in (36, 48, 72, 96, 144, 192, 256, 384, 512)
        ],
        "languages": cfg["languages"],
        "configuration": {
            "urls": {
                "streaming": f"wss://{'streaming.' + host if host == M else host}",
                "status": None,
                "about": f"https://{host}/about",
                "privacy_policy": f"https://{host}/privacy-policy",
                "terms_of_service": f"https://{host}/terms-of-service" if host == M else None,
            },
            "vapid": {"public_key": base64.urlsafe_b64encode(
                b"\x04" + hashlib.sha512(host.encode()).digest()).decode().rstrip("=")},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": cfg["max_chars"],
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "description_limit": 1500,
                "image_matrix_limit": 33177600,
                "image_size_limit": 16777216,
                "supported_mime_types": [
                    "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif",
                    "image/webp", "image/avif", "video/webm", "video/mp4", "video/quicktime",
                    "video/ogg", "audio/wave", "audio/wav", "audio/x-wav", "audio/x-pn-wave",
                    "audio/vnd.wave", "audio/ogg", "audio/vorbis", "audio/mpeg", "audio/mp3",
                    "audio/webm", "audio/flac", "audio/aac", "audio/m4a", "audio/x-m4a",
                    "audio/mp4", "audio/3gpp", "video/x-ms-asf",
                ],
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
                "video_size_limit": 103809024,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
            "translation": {"enabled": cfg["translation"]},
            "timelines_access": {
                "live_feeds": dict(cfg["feeds"]["live"]),
                "hashtag_feeds": dict(cfg["feeds"]["topic"]),
                "trending_link_feeds": dict(cfg["feeds"]["topic"]),
            },
            "limited_federation": False,
        },
        "registrations": {
            "enabled": enabled,
            "approval_required": approval,
            "reason_required": approval,
            "message": None,
            "min_age": 16 if host != L else None,
            "url": None,
        },
        "api_versions": {"mastodon": 7},
        "contact": {"email": cfg["email"], "account": account_json(cfg["contact"], host)},
        "rules": [{"id": str(i + 1), "text": r, "hint": ""} for i, r in enumerate(cfg["rules"])],
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def host_statuses(host: str) -> list[dict]:
    keys = [p["k"] for p in POSTS if host in p["hosts"]]
    keys.sort(key=lambda k: (BY_KEY[k]["dt"], int(LOCAL_ID[(host, k)])), reverse=True)
    return [status_json(k, host) for k in keys]


def dump(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_all() -> None:
    for host in HOSTS:
        dump(HERE / host / "instance.json", instance_json(host))
        dump(HERE / host / "statuses.json", host_statuses(host))
        dump(HERE / host / "deleted.json",
             sorted(LOCAL_ID[(host, k)] for k in DELETED if (host, k) in LOCAL_ID))
    (HERE / "README.md").write_text(readme(), encoding="utf-8")


# --------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------


def where(key: str) -> str:
    p = BY_KEY[key]
    return ", ".join(f"{host} `{LOCAL_ID[(host, key)]}`" for host in p["hosts"])


def kind(key: str) -> str:
    return KIND[key[:2]]


def readme() -> str:
    n_uris = len(POSTS)
    per_host = {host: sum(1 for p in POSTS if host in p["hosts"]) for host in HOSTS}
    posting = sorted({p["a"] for p in POSTS})
    requests = [p["k"] for p in POSTS if kind(p["k"]) == "request"]
    open_requests = [k for k in requests if not any(q.get("re") == k for q in POSTS)]
    tagged_replies = [p["k"] for p in POSTS if p.get("re") and "text" in p
                      and set(format_text(p["text"], p["origin"])[1]) & set(WATCHED)]

    def row(key: str, what: str) -> str:
        return f"| {what} | `{key}` | {where(key)} | {URI[key]} |"

    def mins(a: str, b: str) -> str:
        d = BY_KEY[b]["dt"] - BY_KEY[a]["dt"]
        hours = d.total_seconds() / 3600
        return f"{round(d.total_seconds() / 60)} min" if hours < 1 else f"{hours:.1f} h"

    acct_rows = []
    for u, a in ACCOUNTS.items():
        notes = []
        if a.get("bot"):
            notes.append("bot")
        if "#nobot" in a["note"]:
            notes.append("**#nobot in note**")
        if any("#noindex" in v for _, v, _ in a["fields"]):
            notes.append("**#noindex in a profile field**")
        if a.get("noindex"):
            notes.append(f"**noindex: true** (only {a['host']} sends the field)")
        if a["discoverable"] is False:
            notes.append("discoverable: false")
        if a["discoverable"] is None:
            notes.append("discoverable: null")
        notes.append(f"indexable: {str(a['indexable']).lower()}")
        shown = a["display_name"].replace("|", "\\|")
        acct_rows.append(f"| `{u}@{a['host']}` | `{shown}` | {'; '.join(notes)} |")

    lines = [
        "# Mastodon sample community: solo librarians, 9–22 November 2026",
        "",
        "Two weeks of an invented community of solo librarians (law firms, hospitals, schools, a",
        "prison, museums, a think tank) as three Mastodon servers' REST APIs would present it. It",
        "feeds `peerdesk demo`, the tests' fake Mastodon servers and the docs.",
        "",
        "**Generated: do not edit the JSON by hand.** Change `build.py` (standard library only) and",
        "run `python data/sample/mastodon/build.py`; it rewrites every file here, this README",
        "included, then validates them (`--check` only validates). Output is deterministic.",
        "",
        "People, firms, links and ids are invented. glammr.us and mastodon.social are real",
        "servers whose names are borrowed; libraryland.example is fictional.",
        "",
        "## Layout",
        "",
        "- `<host>/instance.json`: the host's `GET /api/v2/instance` answer.",
        "- `<host>/statuses.json`: every status the host has, newest first, as that host's API",
        "  returns it (Status entities with embedded Account, Tag, MediaAttachment, PreviewCard).",
        "  Each host has its own local `id`s (snowflakes: milliseconds << 16, so they increase",
        "  with time) for statuses, accounts and media; `uri` and `url` are the origin server's.",
        "  `account.acct` is `user` on the account's home server, `user@home` elsewhere.",
        "  Replies point at the parent's local id on the same host.",
        "- `<host>/deleted.json`: local ids the host now answers 404 for. They are still in",
        "  `statuses.json`, as they were when collected.",
        "",
        "| host | version | statuses | hashtag feeds (logged out) |",
        "|---|---|---|---|",
    ]
    for host in HOSTS:
        topic = INSTANCES[host]["feeds"]["topic"]
        lines.append(f"| {host} | {INSTANCES[host]['version']} | {per_host[host]} | "
                     f"local {topic['local']}, remote {topic['remote']} |")
    lines += [
        "",
        f"{n_uris} distinct statuses (distinct `uri`s), {len(posting)} posting accounts. Watched tags:",
        ", ".join(f"`{t}`" for t in WATCHED) + ". Tag names in `tags` are lower case as Mastodon",
        "returns them (`#SoloLibrarians` in the text gives `sololibrarians`), and each tag `url`",
        "is on the host presenting the status; links inside `content` keep the origin's host and",
        "the author's spelling.",
        "",
        "## Things to know about the shapes",
        "",
        "- Times are whole seconds (`.000Z`) everywhere, so a post has the same `created_at` on",
        "  every host (a real origin would show milliseconds for its own posts).",
        "- `content` on the author's home server is rendered as Mastodon renders it (`<p>`,",
        "  `<br />`, `&#39;` for apostrophes, hashtags with `rel=\"tag\"`, mentions in",
        "  `<span class=\"h-card\" translate=\"no\">`, links with `invisible`/`ellipsis` spans). On",
        "  other hosts it has been through Mastodon's sanitizer: every link has",
        "  `rel=\"nofollow noopener\"` (replacing `rel=\"tag\"`) and `target=\"_blank\"`.",
        "- `noindex` and `roles` appear only on an account's home server (Mastodon sends them for",
        "  local accounts only). `application` appears only on the author's home server.",
        "- Boosts: the outer status has its own id and a `uri` ending in `/activity`, empty",
        "  `content`, `tags` [], `language` null, and `reblog` holding the original as this host",
        "  presents it (the original is also in the file on its own). The outer `url` is the",
        "  `/activity` uri on the booster's server and null elsewhere (Mastodon stores no url",
        "  for a remote boost).",
        "- `quote_approval.current_user` is `denied` throughout (answers to logged-out requests).",
        "- mastodon.social sets `timelines_access.hashtag_feeds.remote` to `authenticated`",
        "  (Mastodon 4.5): logged out, `GET /api/v1/timelines/tag/:tag` there answers 401 unless",
        "  `local=true` is given. Mastodon uses one setting for hashtag and trending-link feeds,",
        "  so `trending_link_feeds.remote` is `authenticated` too.",
        "",
        "## Accounts",
        "",
        "| account | display name | notes |",
        "|---|---|---|",
        *acct_rows,
        "",
        "Instance contact accounts (`glammr@glammr.us`, `support@mastodon.social`, `owen` on",
        "libraryland.example) are in `instance.json`; the first two never post.",
        "",
        "**Also on Bluesky:** Ana Lima (`analima@glammr.us`) is `analima.bsky.social`; her bio and",
        "a profile field say so.",
        "",
        "## Special cases",
        "",
        "Ids are `host id` pairs; `key` is the post's name in `build.py`.",
        "",
        "| case | key | where (host and local id) | uri |",
        "|---|---|---|---|",
        row("h_budget", "help request on 3 hosts, thread with self-reply and reply chain"),
        row("r_budget_self", "self-reply by the asker (no mention)"),
        row("r_budget_chain", "reply to a reply (asker answers a helper)"),
        row("r_budget_priya2", "third level of the chain, only on glammr.us"),
        row("r_budget_priya", f"reply after {mins('h_budget', 'r_budget_priya')}"),
        row("r_first90_margaret",
            f"reply after {mins('h_first90', 'r_first90_margaret')}, with a watched tag"),
        row("r_graphic_deb", f"reply after {mins('h_graphic', 'r_graphic_deb')}"),
        row("r_ils_layla", f"reply after {mins('h_ils', 'r_ils_layla')} (two days)"),
        row("r_zotero_kwame", f"reply after {mins('h_zotero', 'r_zotero_kwame')} (two days)"),
        row("r_videos_priya", f"reply after {mins('h_videos', 'r_videos_priya')}"),
        row("r_first90_private", "**visibility private**: never store"),
        row("b_jobad_kwame", "boost of a job ad (mastodon.social user)"),
        row("b_slides_marta", "boost of an announcement (libraryland.example user)"),
        row("n_meetup", "edited: edited_at set on glammr.us and mastodon.social; "
            "libraryland.example still has the first version (edited_at null, 15:00 UTC)"),
        row("h_facilities", "**deleted** after collection: listed in deleted.json on both hosts"),
        row("r_fac_deb", "reply to the deleted post (its parent still resolves)"),
        row("n_digest1", "bot weekly digest (bot: true)"),
        row("n_digest2", "bot weekly digest (bot: true)"),
        row("h_truecrime", "request by the #nobot account, with a content warning"),
        row("n_pratchett", "non-request by the #nobot account"),
        row("h_leaflet", "request by the #noindex-field account"),
        row("h_seedcat", "request by the noindex: true account, with an image"),
        row("h_graphic", "request by the discoverable: false account"),
        row("h_xss", "escaped `&lt;script&gt;alert(1)&lt;/script&gt;` as text in content"),
        row("n_spam", "**hostile raw HTML**: `<img src=x onerror=alert(1)>` and a `javascript:` link"),
        row("r_timetrack_priya", "authored by the display name with HTML-ish characters and "
            "custom emoji `:lawbook:`"),
        row("n_cake", "`language: null`, with an image"),
        row("h_ils", "German (ß in weiß)"),
        row("h_cdi", "French; open request"),
        row("h_zotero", "Spanish"),
        row("r_lost_claire", "French reply to a Spanish request, with a watched tag"),
        row("h_copyright", "author with an Arabic (RTL) display name"),
        "",
        "Help requests (questions asking for advice, recommendations or resources):",
        "",
        *[f"- `{k}` ({BY_KEY[k]['lang'] or 'null'}, {BY_KEY[k]['t']}): {where(k)}" for k in requests],
        "",
        "Open requests (no reply anywhere): " + ", ".join(
            f"`{k}` ({BY_KEY[k]['t'][:5]})" for k in open_requests) + ".",
        "",
        "Replies carrying a watched tag: " + ", ".join(f"`{k}`" for k in tagged_replies)
        + ". Every other reply carries no watched tag (most carry no tag at all).",
        "",
        "Non-requests: announcements and events (`n_meetup`, `n_slides`, `n_rencontre`), a job",
        "ad (`n_jobad`), \"did you know\" posts (`n_alerts`, `n_history`, `n_clubexpress`),",
        "thanks and updates (`n_journalclub`, `n_xss_update`, `n_budget_done`, `n_emily_thanks`),",
        "everyday posts (`n_cake`, `n_pratchett`), bot digests and the spam post.",
        "",
        "Federated duplicates: " + str(sum(1 for p in POSTS if len(p["hosts"]) > 1))
        + " statuses are on two or three hosts (same `uri`, different local ids); "
        + str(sum(1 for p in POSTS if len(p["hosts"]) == 3)) + " are on all three.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def validate() -> list[str]:
    problems: list[str] = []
    seen: dict[str, tuple[str, str, str]] = {}  # uri -> (host, account uri, created_at)
    uris: set[str] = set()

    def check_status(host: str, s: dict, ids: set[str], where_: str) -> None:
        for key in ("id", "uri", "created_at", "account", "content", "visibility", "tags"):
            if key not in s:
                problems.append(f"{where_}: missing {key}")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s["created_at"]):
            problems.append(f"{where_}: bad created_at {s['created_at']}")
        if not ("2026-11-09T00:00" <= s["created_at"] <= "2026-11-22T23:59:59.999Z"):
            problems.append(f"{where_}: created_at outside the two weeks")
        acct = s["account"]
        home = acct["uri"].split("/")[2]
        expected = acct["username"] if home == host else f"{acct['username']}@{home}"
        if acct["acct"] != expected:
            problems.append(f"{where_}: acct {acct['acct']} should be {expected}")
        if ("noindex" in acct) != (home == host):
            problems.append(f"{where_}: noindex present only for local accounts")
        for t in s["tags"]:
            if t["name"] != t["name"].lower() or t["url"] != f"https://{host}/tags/{t['name']}":
                problems.append(f"{where_}: bad tag {t}")
        prior = seen.get(s["uri"])
        if prior and prior[1:] != (acct["uri"], s["created_at"]):
            problems.append(f"{where_}: {s['uri']} differs in account/created_at from {prior[0]}")
        seen.setdefault(s["uri"], (host, acct["uri"], s["created_at"]))
        if s["reblog"] is not None:
            if not s["uri"].endswith("/activity") or s["content"] or s["tags"]:
                problems.append(f"{where_}: boost shape")
            if s["reblog"]["id"] not in ids:
                problems.append(f"{where_}: boosted status not on {host}")

    for host in HOSTS:
        folder = HERE / host
        try:
            statuses = json.loads((folder / "statuses.json").read_text(encoding="utf-8"))
            deleted = json.loads((folder / "deleted.json").read_text(encoding="utf-8"))
            instance = json.loads((folder / "instance.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            problems.append(f"{host}: {exc}")
            continue
        if instance["domain"] != host or "timelines_access" not in instance["configuration"]:
            problems.append(f"{host}: instance.json")
        ids = [s["id"] for s in statuses]
        if len(ids) != len(set(ids)):
            problems.append(f"{host}: duplicate status ids")
        idset = set(ids)
        by_id = {s["id"]: s for s in statuses}
        order = [(s["created_at"], int(s["id"])) for s in statuses]
        if order != sorted(order, reverse=True):
            problems.append(f"{host}: not newest first")
        if [int(i) for i in ids] != sorted((int(i) for i in ids), reverse=True):
            problems.append(f"{host}: ids do not increase with time")
        accounts: dict[str, str] = {}
        for s in statuses:
            where_ = f"{host} {s['id']}"
            check_status(host, s, idset, where_)
            uris.add(s["uri"])
            for a in [s["account"]] + ([s["reblog"]["account"]] if s["reblog"] else []):
                if accounts.setdefault(a["id"], a["uri"]) != a["uri"]:
                    problems.append(f"{where_}: account id {a['id']} reused")
            if s["in_reply_to_id"] is not None:
                parent = by_id.get(s["in_reply_to_id"])
                if parent is None:
                    problems.append(f"{where_}: in_reply_to_id does not resolve")
                elif parent["account"]["id"] != s["in_reply_to_account_id"]:
                    problems.append(f"{where_}: in_reply_to_account_id mismatch")
            for m in s["mentions"]:
                mentioned = f"https://{m['url'].split('/')[2]}/users/{m['username']}"
                if accounts.setdefault(m["id"], mentioned) != mentioned:
                    problems.append(f"{where_}: mention id {m['id']} mismatch")
        for i in deleted:
            if i not in idset:
                problems.append(f"{host}: deleted id {i} not in statuses.json")
    if not 70 <= len(uris) <= 110:
        problems.append(f"{len(uris)} distinct uris")
    return problems


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        write_all()
    problems = validate()
    for line in problems:
        print("PROBLEM:", line)
    if not problems:
        print(f"ok: {len(POSTS)} distinct statuses; " + ", ".join(
            f"{host}: {sum(1 for p in POSTS if host in p['hosts'])}" for host in HOSTS))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
