"""Is collection working? Each source's last run, what it found, its errors, waits and cursor age."""

import pandas as pd
import streamlit as st

from dashboard import data, health_words, show

desk = data.current()
sources, source_cursors, cursors, totals = data.health(desk)

st.title("Collection health")
t = st.columns(3)
t[0].metric("Posts stored", f"{totals['posts']:,}")
t[1].metric("Accounts", f"{totals['accounts']:,}")
t[2].metric("Sightings", f"{totals['sightings']:,}", help="A post seen on several instances counts once per instance.")

failing = [s for s in sources if s["failing_for_a_day"]]
for s in failing:
    st.warning(f"**Failing for more than a day: {show.md_escape(s['source'])}.** "
               f"{show.md_escape(health_words.sentence(health_words.since_working(s, desk.as_of(), desk.timezone)))}. "
               f"Last error: {show.md_escape(s['message'] or 'none recorded')}.", icon=":material/warning:")
failed_now = [s for s in sources if s["last_ok"] is False and not s["failing_for_a_day"]]
for s in failed_now:
    st.info(f"The last run of {show.md_escape(s['source'])} failed "
            f"({show.md_escape(s['message'] or 'no message')}); "
            f"{show.md_escape(health_words.since_working(s, desk.as_of(), desk.timezone, short=True))}.",
            icon=":material/info:")
skipped = [s for s in sources if s["skipped"]]
for s in skipped:
    st.info(f"{show.md_escape(s['source'])} is not configured, so it is not collected: "
            f"{show.md_escape(health_words.skip_reason(s['message']))}.", icon=":material/block:")
if sources and not failing and not failed_now:
    st.success("Every configured source's last run worked.", icon=":material/check_circle:")

st.subheader("Sources")
if not sources:
    st.info("No collection runs recorded yet. `peerdesk collect` records one line per source each time it runs "
            "(the demo database is loaded from a sample, so it has none).")
else:
    ages = {c["source"]: c for c in source_cursors}
    st.dataframe(pd.DataFrame([{
        "Source": s["source"],
        "Result": health_words.result(s),
        "Last run": show.local(s["last_run"], desk.timezone),
        "New posts": s["last_new_posts"],
        "Errors": s["last_errors"],
        "Last success": show.local(s["last_ok_at"], desk.timezone) or "never",
        "Message": s["message"] or "",
        "Platform": show.platform(s["platform"]),
        "Cursor age": show.duration(ages[s["source"]]["cursor_age"]) if s["source"] in ages else "no cursor",
        "Rate-limit waits (all runs)": s["rate_limit_waits"],
        "Runs": s["runs"],
        "Posts collected (all runs)": s["posts_collected"],
    } for s in sources]), hide_index=True, key="sources_table")
    st.caption("A run that failed, or whose every request was an error, counts as failed. 'Cursor age' is how "
               "long since the source's saved position last moved forward.")

st.subheader("Saved positions")
positions = [c for c in cursors if not c["cursor_key"].startswith("thread:")]
threads = [c for c in cursors if c["cursor_key"].startswith("thread:")]
if positions:
    st.dataframe(pd.DataFrame([{
        "Cursor": c["cursor_key"], "Position": c["position"],
        "Updated": show.local(c["updated_at"], desk.timezone), "Age": show.duration(c["age"]),
    } for c in positions]), hide_index=True, key="cursors_table")
else:
    st.caption("No saved positions yet.")
if threads:
    oldest = max(threads, key=lambda c: c["age"])
    st.caption(f"{len(threads)} help-request threads are being re-checked for replies; the longest unchecked "
               f"was last looked at {show.duration(oldest['age'])} ago.")
