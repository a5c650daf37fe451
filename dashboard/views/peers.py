"""Who helps: the people answering others' requests, sortable and downloadable."""

import pandas as pd
import streamlit as st

from dashboard import data, show
from pipeline.core.queries import PEERS_WEEKS

desk = data.current()
PERIODS = {n: "this week" if n == 1 else f"last {n} weeks" for n in sorted({1, 4, 12, 52, PEERS_WEEKS})}

st.title("Peers")
st.caption("Who helps: first replies to help requests, replies to other people's requests, requests they asked. "
           "Bots are left out. Click a column header to sort.")
weeks = st.selectbox("Period", list(PERIODS), index=list(PERIODS).index(PEERS_WEEKS), format_func=PERIODS.get,
                     key="peers_weeks", bind="query-params", width=250)
raw = data.peers(desk, weeks=weeks)

# The columns a person compares come first, so a narrow screen shows them before any sideways scroll.
frame = pd.DataFrame({
    "Handle": raw["handle"],
    "First responses": raw["first_responses"],
    "Replies to others": raw["replies_to_others"],
    "Median first response": raw["median_response_time"].map(lambda v: show.duration(v) or "–"),
    "Requests asked": raw["requests_asked"],
    "Posts": raw["posts"],
    "Last post": pd.to_datetime(raw["last_post_at"], utc=True).dt.tz_convert(desk.timezone),
    "Name": raw["display_name"].fillna(""),
    "Platform": raw["platform"].map(show.platform),
    "Profile": raw["url"].map(show.safe_url),
})

replied = int((frame["Replies to others"] > 0).sum()) if not frame.empty else 0
helpers = int((frame["First responses"] > 0).sum()) if not frame.empty else 0
st.subheader(f"{len(frame)} people posted; {replied} active peers replied to someone else's request, "
             f"{helpers} gave a first response")
st.caption("'Active peers' means the same here as on the Overview: people who replied to someone else's help "
           "request in the period.")
if frame.empty:
    st.info("Nobody posted in this period.")
    st.stop()

st.dataframe(
    frame, hide_index=True, key="peers_table", height=min(38 + 35 * len(frame), 640),
    column_config={
        "Handle": st.column_config.TextColumn(pinned=True),
        "Profile": st.column_config.LinkColumn("Profile", help="Their profile page (http and https links only)",
                                               display_text="profile"),
        "Last post": st.column_config.DatetimeColumn("Last post", format="ddd D MMM, HH:mm",
                                                     help="Their newest post in the period."),
        "Median first response": st.column_config.TextColumn(
            help="Median time from a request to their first reply, over the requests they answered first."),
    },
)
# The CSV is made when the button is pressed, not on every view (20,000 peers take a tenth of a second).
st.download_button("Download the peer list (CSV)", lambda: show.csv_bytes(frame.assign(**{
                       "Median first response (hours)": show.hours_column(raw["median_response_time"])})),
                   file_name=f"peerdesk-peers-{desk.as_of():%Y-%m-%d}.csv", mime="text/csv",
                   key="peers_csv", icon=":material/download:", on_click="ignore")
