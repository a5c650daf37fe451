"""Shown instead of the dashboard when the database file does not exist yet."""

import streamlit as st

from dashboard import data

desk = data.current()

st.title("No database yet")
st.write("peerdesk looked for its database here and found nothing:")
st.code(desk.db, language=None)
st.subheader("Try it with the bundled sample")
st.write("This builds a demo database from a small sample community (Mastodon and Bluesky posts, "
         "open and answered help requests) and opens the dashboard on it:")
st.code("peerdesk demo", language="bash")
st.subheader("Or collect your community's posts")
st.write("Write a configuration, adjust the hashtags and instances in it, then collect once:")
st.code("peerdesk init\npeerdesk collect\npeerdesk dashboard", language="bash")
st.button("Check again", key="check_again", icon=":material/refresh:",
          help="Look for the database file again.")
