"""The queue: help requests still waiting for a reply, oldest first, each with a way to go and answer it."""

from datetime import timedelta

import streamlit as st

from dashboard import data, show
from dashboard.links import answer_links

desk = data.current()
DAY = timedelta(days=1)
STATUSES = {"open": "Open (no reply yet)", "answered": "Answered", "resolved": "Resolved", "all": "All"}
AGES = {
    "any": ("Any age", None, None),
    "lt1d": ("Under 1 day", None, DAY),
    "1to3d": ("1 to 3 days", DAY, 3 * DAY),
    "3to7d": ("3 to 7 days", 3 * DAY, 7 * DAY),
    "gt7d": ("Over 7 days", 7 * DAY, None),
}
ANY = "(any)"
DONE = {"resolved": "Resolved", "not-request": "Marked not a request", "reopen": "Reopened",
        "request": "Marked a help request", "rules": "Back to the rules' verdict"}


def _undo_of(decision: str, row: dict) -> str:
    """The decision that puts a post back as it was: undoing "Not a request" hands it back to the rules
    unless a curator had already called it a request (so no "(decided by a curator)" is left behind)."""
    if decision == "not-request":
        return "request" if row["curated"] else "rules"
    return {"resolved": "reopen", "reopen": "resolved", "request": "rules"}.get(decision, "rules")


def _mark(row: dict, decision: str, index: int, undone: bool = False) -> None:
    """Record the decision and remember the card, so the next run shows the outcome where the click was."""
    outcome = data.mark(desk, row["uri"], decision)
    ok = outcome.startswith("ok:")
    st.session_state["peerdesk_flash"] = {"outcome": outcome, "row": row, "index": index, "decision": decision,
                                          "undo": _undo_of(decision, row) if ok else None,
                                          "undone": undone and ok}


def _who(row: dict) -> str:
    name = " ".join((row["display_name"] or "").split())
    return f"{name} ({row['author']})" if name else str(row["author"])


def _acted_card(flash: dict) -> None:
    """The card just acted on, kept in its place for one run: what was done, to whose post, and Undo.

    Undo sits at the far right, away from where "Mark resolved" was, so a double tap lands on text.
    """
    row, (kind, _, message) = flash["row"], flash["outcome"].partition(":")
    with st.container(border=True, key=f"acted:{row['uri']}"):
        st.text(f"{_who(row)}: {show.first_lines(row['text'], lines=1, chars=120)}")
        said, _, _, undo = st.columns([4, 1, 1, 1], vertical_alignment="center")
        if kind != "ok":
            said.error(message, icon=":material/error:")
            return
        said.success(f"{DONE.get(flash['decision'], message)}: the post by {show.md_escape(_who(row))}.",
                     icon=":material/check:")
        if flash["undo"]:
            undo.button("Undo", key=f"undo:{row['uri']}", on_click=_mark,
                        args=(row, flash["undo"], flash["index"], True),
                        icon=":material/undo:", help="Put this post back as it was before.")


st.title("Help requests")

flash = st.session_state.pop("peerdesk_flash", None)

# On a phone the five filters would fill the first screen: they fold away, their choice named on the label.
filters = st.expander("Filters", icon=":material/filter_list:")
cols = filters.columns(5)
status_key = cols[0].selectbox("Status", list(STATUSES), format_func=STATUSES.get, key="status",
                               bind="query-params")
status = None if status_key == "all" else status_key
choices = data.request_choices(desk, status)
platform = cols[1].selectbox("Platform", [ANY, *choices["platforms"]], key="platform", bind="query-params",
                             format_func=lambda p: p if p == ANY else show.platform(p))
tag = cols[2].selectbox("Tag", [ANY, *choices["tags"]], key="tag", bind="query-params",
                        format_func=lambda t: t if t == ANY else f"#{t}")
lang = cols[3].selectbox("Language", [ANY, *choices["langs"]], key="lang", bind="query-params")
age_key = cols[4].selectbox("Age", list(AGES), format_func=lambda k: AGES[k][0], key="age", bind="query-params")
_, min_age, max_age = AGES[age_key]

listed = data.help_requests(desk, status=status, platform=None if platform == ANY else platform,
                            tag=None if tag == ANY else tag, lang=None if lang == ANY else lang,
                            min_age=min_age, max_age=max_age)
what = {"open": "open help requests", "answered": "answered help requests",
        "resolved": "resolved help requests"}.get(status_key, "help requests")
overdue = data.overdue_count(desk)
if overdue:
    st.warning(f"**{overdue} overdue**: open for over {show.duration(desk.alert_after)} with no reply "
               "([alerts] after). They are marked below.", icon=":material/schedule:")
hints = data.suggestions_for(desk) if status_key in ("open", "all") else {}
st.subheader(f"{listed.total} {what}, oldest first")
st.caption(f"Times are in {show.md_escape(desk.timezone)}. 'Open' means no reply yet from anyone else; "
           "'Mark resolved' takes a request off this list, 'Not a request' tells peerdesk it was misread.")
if not listed.total:
    st.info("Nothing here with these filters." if status_key == "open" else "No help requests match these filters.")

limit = 50
if listed.total > limit:
    limit = st.selectbox("How many to show", [50, 200, data.MAX_LISTED], key="show", bind="query-params", width=200)
    st.caption(f"Showing the oldest {min(limit, listed.total)} of {listed.total}.")

def _card(row: dict, index: int, note: str | None = None) -> None:
    """One help request: who asked what, why it counts, and the ways to act on it."""
    uri = row["uri"]
    where = show.platform(row["platform"])
    with st.container(border=True):
        head = [f"**{where}**"]
        if row["status"] == "open":
            late = row["age"] >= desk.alert_after
            head.append(f":red-badge[overdue] waiting **{show.duration(row['age'])}**" if late
                        else f"waiting **{show.duration(row['age'])}**")
        elif row["status"] == "answered":
            head.append(f"answered after **{show.duration(row['response_time'])}** by "
                        f"{show.md_code(row['first_responder'] or 'someone')}")
        else:
            head.append("**resolved**")
        head.append(f"posted {show.local(row['created_at'], desk.timezone)}")
        st.markdown(" · ".join(head))
        if note:
            st.caption(note)
        name = " ".join((row["display_name"] or "").split())
        st.text(f"{name} ({row['author']}) asked:" if name else f"{row['author']} asked:")
        st.text(show.first_lines(row["text"]))
        why = ", ".join(show.reason(r) for r in row["reasons"]) or "no rule"
        facts = [f"Why it counts: {show.md_escape(why)}" + (" (decided by a curator)" if row["curated"] else "")]
        if row["tags"]:
            facts.append("Tags: " + " ".join(show.md_code(f"#{t}") for t in row["tags"]))
        if row["lang"]:
            facts.append(f"Language: {show.md_code(row['lang'])}")
        if row["replies_from_others"]:
            facts.append(f"{row['replies_from_others']} replies from others")
        st.caption(" · ".join(facts))
        hint = hints.get(uri, {})
        if hint.get("peers"):
            st.caption("Could answer: " + "; ".join(
                f"{show.md_code(p['handle'])} ({show.md_escape(p['reasons'][0])})" if p["reasons"]
                else show.md_code(p["handle"]) for p in hint["peers"]))
        if hint.get("asked_before"):
            links = [f"[{show.md_escape(show.first_lines(a['text'] or '')[:60])}]({show.safe_url(a['url'])})"
                     if show.safe_url(a["url"]) else show.md_escape(show.first_lines(a["text"] or "")[:60])
                     for a in hint["asked_before"]]
            st.caption("Asked before: " + " · ".join(links))
        actions = st.columns([2, 1, 1, 3], vertical_alignment="center")
        links = answer_links(row, desk.home)
        if links:
            (label, first, why), *others = links
            actions[0].link_button(label, first, key=f"open:{uri}", icon=":material/open_in_new:", help=why)
            if others:
                actions[3].markdown(" · ".join(f"[{show.md_escape(text)}]({href})" for text, href, _ in others))
        else:
            actions[0].caption("No safe web link for this post.")
        if row["status"] == "resolved":
            actions[1].button("Reopen", key=f"reopen:{uri}", on_click=_mark, args=(row, "reopen", index),
                              help=f"Put the request by {show.md_escape(row['author'])} back in the queue.")
        else:
            actions[1].button("Mark resolved", key=f"resolve:{uri}", on_click=_mark, args=(row, "resolved", index),
                              help=f"Take the request by {show.md_escape(row['author'])} off the open list.")
        actions[2].button("Not a request", key=f"notreq:{uri}", on_click=_mark, args=(row, "not-request", index),
                          help=f"The post by {show.md_escape(row['author'])} is not asking for help.")


rows = listed.rows.head(limit).to_dict("records")
acted = flash["row"]["uri"] if flash else None
if flash and not flash["undone"] and acted not in {r["uri"] for r in rows}:
    rows.insert(min(flash["index"], len(rows)), flash["row"])  # gone from this list: its card stays put once
for index, row in enumerate(rows):
    if row["uri"] != acted:
        _card(row, index)
    elif flash["undone"]:
        _card(row, index, note=f"Undone: {DONE.get(flash['decision'], 'changed').lower()} again.")
    else:
        _acted_card(flash)
