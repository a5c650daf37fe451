"""This week against last week, and how much the community posted each day."""

import pandas as pd
import streamlit as st

from dashboard import charts, data, show

desk = data.current()
weeks, per_day = data.overview(desk)
now, then = weeks

st.title(f"{show.md_escape(desk.community)}: this week")
st.caption(f"This week so far (since Monday 00:00 UTC) against last week up to the same day and hour, "
           f"each as it stood then. Times are in {show.md_escape(desk.timezone)}.")


def _count(col, label: str, field: str, better: str, help: str, versus: str = "vs last week") -> None:  # noqa: ANN001
    """A count against last week; the sign and arrow say which way, the colour only repeats it."""
    diff = now[field] - then[field]
    colour = {"more": "normal", "fewer": "inverse"}.get(better, "off") if diff else "off"
    col.metric(label, now[field], f"{diff:+d}", delta_color=colour, delta_arrow="auto" if diff else "off",
               delta_description=versus, help=help)


def _wait(col) -> None:  # noqa: ANN001
    a, b = now["median_response"], then["median_response"]
    delta = None
    if a is not None and b is not None:
        diff = a - b
        delta = ("-" if diff.total_seconds() < 0 else "+") + show.duration(abs(diff))
    col.metric("Median first reply", show.duration(a) or "none yet", delta,
               delta_color="inverse" if delta and delta != "+0m" else "off",
               delta_arrow="auto" if delta and delta != "+0m" else "off", delta_description="vs last week",
               help="Median time to the first reply, for this week's answered requests (shorter is better).")


# The work first: the request waiting longest and the way to the queue, then the figures.
st.page_link("views/open_requests.py", label=f"Go to the open queue ({now['open_total']})",
             icon=":material/arrow_forward:")

oldest = data.help_requests(desk, status="open").rows.head(1).to_dict("records")
if oldest:
    first = oldest[0]
    with st.container(border=True):
        st.markdown(f"**Waiting longest:** {show.md_code(first['author'])} on {show.platform(first['platform'])}, "
                    f"for **{show.duration(first['age'])}**")
        st.text(show.first_lines(first["text"], lines=2, chars=200))

# The queue first: on a phone the six figures stack, and the one to act on must not be last.
cols = st.columns(6)
_count(cols[0], "Open queue", "open_total", "fewer", "All open help requests, of any age: the 'Open requests' list.",
       versus="vs a week ago")
_count(cols[1], "New requests", "new_requests", "neither", "Help requests posted this week so far.")
_count(cols[2], "Answered", "answered", "more", "Of this week's requests, how many got a reply from someone else.")
_count(cols[3], "Still open", "still_open", "fewer",
       "Of this week's requests, how many are still waiting for a first reply (fewer is better).")
_wait(cols[4])
_count(cols[5], "Active peers", "active_peers", "more",
       "People who replied to someone else's help request this week (the Peers page counts them the same way).")

overdue = data.overdue_count(desk)
if overdue:
    st.warning(f"**{overdue} help request{'s' if overdue != 1 else ''} overdue**: open for over "
               f"{show.duration(desk.alert_after)} with no reply. See 'Open requests'.", icon=":material/schedule:")
else:
    st.caption(f"No help request has been open for over {show.duration(desk.alert_after)}.")

st.subheader("The same figures as a table")
st.table(pd.DataFrame([{
    "Period": f"{row['period']} ({show.local(row['start'], desk.timezone)} to {show.local(row['end'], desk.timezone)})",
    "New help requests": row["new_requests"],
    "Answered": row["answered"],
    "Still open": row["still_open"],
    "Median time to first response": show.duration(row["median_response"]) or "none yet",
    "Active peers": row["active_peers"],
    "Open queue": row["open_total"],
    "Posts": row["posts"],
} for row in weeks]), hide_index=True)

st.subheader("Posts per day")
frame = pd.DataFrame(per_day, columns=["day", "platform", "posts"])
if frame.empty:
    st.info("No posts stored yet.")
else:
    frame["Platform"] = frame["platform"].map(show.platform)
    frame["Day"] = pd.to_datetime(frame["day"]).dt.strftime("%a %d")
    order = list(dict.fromkeys(frame["Day"]))
    totals = frame.groupby("Platform")["posts"].sum()
    summary = ", ".join(f"{name} {int(n)}" for name, n in totals.items())
    left, right = st.columns([3, 2])
    for name, part in frame.rename(columns={"posts": "Posts"}).groupby("Platform"):
        left.altair_chart(charts.bars(part, "Day", "Posts", title=f"{name}: posts per day", x_title="Day",
                                      y_title="Posts", order=order),
                          alt=f"Bar chart of {name} posts per day over the last 14 days, "
                              f"{int(totals[name])} in all; the numbers are in the table beside it.")
    table = frame.pivot_table(index="day", columns="Platform", values="posts", aggfunc="sum").fillna(0).astype(int)
    table["Total"] = table.sum(axis=1)
    table.index = [pd.Timestamp(d).strftime("%a %d %b %Y") for d in table.index]
    right.table(table)
    st.caption(f"Last 14 days, by day in {show.md_escape(desk.timezone)}: {summary} posts.")
