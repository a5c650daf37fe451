"""Read-only questions about the store: the one query layer the CLI and the dashboard both read through.

One definition of each answer: the dashboard and ``peerdesk`` commands call these functions (as
``queries.help_requests(...)``), so a number never differs between the two. Each subject has its module;
this package is their table of contents.
"""

from pipeline.core.queries.health import (
    cursor_ages,
    posts_per_day,
    recent_posts,
    source_cursor_ages,
    source_health,
    totals,
)
from pipeline.core.queries.peers import PEERS_WEEKS, account_list, peer_weeks, peers, peers_frame
from pipeline.core.queries.requests import (
    alerts_log,
    count_help_requests,
    count_overdue,
    help_requests,
    overdue_requests,
    request_filter_choices,
)
from pipeline.core.queries.responses import (
    RESPONSE_BUCKETS,
    RESPONSE_TIMES_WEEKS,
    response_summary,
    response_time_buckets,
    response_times,
    week_overview,
)
from pipeline.core.queries.snapshot import answering_from, requests_snapshot, serving

__all__ = [
    "PEERS_WEEKS", "RESPONSE_BUCKETS", "RESPONSE_TIMES_WEEKS", "account_list", "alerts_log", "answering_from",
    "count_help_requests", "count_overdue",
    "cursor_ages", "help_requests", "overdue_requests", "peer_weeks", "peers", "peers_frame", "posts_per_day",
    "recent_posts", "request_filter_choices", "requests_snapshot", "response_summary", "response_time_buckets",
    "response_times", "serving", "source_cursor_ages", "source_health", "totals", "week_overview",
]
