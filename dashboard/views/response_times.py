"""How long people wait for a first reply: the distribution, and each week's median and 90th percentile."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts, data, show
from pipeline import platforms
from pipeline.core.queries import RESPONSE_BUCKETS, RESPONSE_TIMES_WEEKS

desk = data.current()
ANY = "(any)"

st.title("Response times")
st.caption("Time from a help request to the first reply from someone else (not the asker, not a bot). "
           "Weeks run Monday to Sunday, UTC, and are named by their Monday.")
cols = st.columns(4)
WEEKS = sorted({4, 8, 12, 26, 52, RESPONSE_TIMES_WEEKS})
weeks = cols[0].selectbox("Weeks", WEEKS, index=WEEKS.index(RESPONSE_TIMES_WEEKS), key="rt_weeks", bind="query-params",
                          format_func=lambda n: f"last {n} weeks")
platform = cols[1].selectbox("Platform", [ANY, *platforms.NAMES], key="rt_platform", bind="query-params",
                             format_func=lambda p: p if p == ANY else show.platform(p))
weekly, buckets, summary = data.response_times(desk, weeks=weeks, platform=None if platform == ANY else platform)

target = show.duration(desk.alert_after)
m = st.columns(6)
m[0].metric("Help requests", summary["requests"])
m[1].metric("Answered", summary["answered"])
m[2].metric("Median time to first response", show.duration(summary["median_response"]) or "none yet")
m[3].metric("90th percentile", show.duration(timedelta(seconds=summary["p90_response_seconds"]))
            if summary["p90_response_seconds"] is not None else "none yet",
            help="Nine in ten answered requests got their first reply within this time.")
m[4].metric("Answered within 24 hours", show.percent(summary["answered_within_24h"]),
            help="Share of all requests in the period (answered or not) whose first reply came within a day.")
m[5].metric(f"Answered within {target}", show.percent(summary["answered_within_target"]),
            help="The target set by [alerts] after: share of all requests in the period whose first reply "
                 "came before they would be overdue.")

if not summary["requests"]:
    st.info("No help requests in this period.")
    st.stop()

st.subheader("How long requests waited")
dist = pd.DataFrame(buckets, columns=["bucket_order", "bucket", "platform", "requests"])
dist["Platform"] = dist["platform"].map(show.platform)
dist = dist.rename(columns={"bucket": "Wait", "requests": "Requests"})
counts = dist.groupby("Wait")["Requests"].sum()
described = ", ".join(f"{b}: {int(counts[b])}" for b in RESPONSE_BUCKETS if b in counts)
left, right = st.columns([3, 2])
for name, part in dist.groupby("Platform"):
    left.altair_chart(charts.bars(part, "Wait", "Requests", title=f"{name}: time to first reply",
                                  x_title="Time to first reply", y_title="Requests",
                                  order=list(RESPONSE_BUCKETS), horizontal=True),
                      alt=f"Bar chart of how long {name} help requests waited for a first reply; "
                          "the numbers are in the table beside it.")
table = dist.pivot_table(index="Wait", columns="Platform", values="Requests", aggfunc="sum").fillna(0).astype(int)
table = table.reindex(list(RESPONSE_BUCKETS), fill_value=0)
table["Total"] = table.sum(axis=1)
right.table(table)
right.caption(f"{'All platforms' if platform == ANY else show.platform(platform)}: {described}.")

st.subheader("Each week")
frame = pd.DataFrame(weekly, columns=["week", "platform", "requests", "answered", "still_open", "median_response",
                                      "p90_response_seconds", "answered_within_24h", "answered_within_target"])
frame["Platform"] = frame["platform"].map(show.platform)
frame["Week"] = frame["week"].map(show.week_label)
week_order = list(dict.fromkeys(frame.sort_values("week")["Week"]))
frame["Median (hours)"] = frame["median_response"].map(show.hours)
frame["90th percentile (hours)"] = frame["p90_response_seconds"].map(show.hours)
frame["Answered within 24 h (%)"] = (frame["answered_within_24h"] * 100).round(0)
frame[f"Within {target} (%)"] = (frame["answered_within_target"] * 100).round(0)
c1, c2, c3 = st.columns(3)
c1.altair_chart(charts.lines_per_platform(frame.dropna(subset=["Median (hours)"]), "Week", "Median (hours)",
                                          title="Median wait for a first reply", x_title="Week",
                                          y_title="Median hours to first reply", order=week_order),
                height=320, alt="Line chart of the weekly median time to first reply in hours, one line per platform; "
                    "the numbers are in the table below.")
c2.altair_chart(charts.lines_per_platform(frame.dropna(subset=["90th percentile (hours)"]), "Week",
                                          "90th percentile (hours)", title="Nine in ten answered within",
                                          x_title="Week", y_title="90th percentile, hours", order=week_order),
                height=320, alt="Line chart of the weekly 90th percentile time to first reply in hours, one line per "
                    "platform; the numbers are in the table below.")
c3.altair_chart(charts.lines_per_platform(frame, "Week", "Answered within 24 h (%)",
                                          title="Answered within a day", x_title="Week",
                                          y_title="Answered within 24 hours, %", order=week_order),
                height=320, alt="Line chart of the weekly share of requests answered within 24 hours, one line per "
                    "platform; the numbers are in the table below.")
text = frame[["Week", "Platform", "requests", "answered", "still_open"]].rename(
    columns={"requests": "Requests", "answered": "Answered", "still_open": "Still open"})
# The table says how long in the same words as the figures above it ("8h 18m"); the charts plot hours.
text["Median wait"] = frame["median_response"].map(lambda v: show.duration(v) or "–")
text["90th percentile"] = frame["p90_response_seconds"].map(
    lambda v: "–" if pd.isna(v) else show.duration(timedelta(seconds=float(v))))
for column in ("Answered within 24 h (%)", f"Within {target} (%)"):
    text[column.removesuffix(" (%)")] = frame[column].map(lambda v: "–" if pd.isna(v) else f"{v:.0f}%")
st.table(text, hide_index=True)
