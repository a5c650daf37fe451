"""Charts that do not rely on colour alone: platforms get a chart each, or lines of different shape.

Each chart sits next to a table with the same numbers (the text equivalent);
``alt`` gives screen readers a one-line summary of what the chart shows.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_SHAPES = alt.Scale(domain=["Mastodon", "Bluesky"], range=["circle", "square"])
_DASHES = alt.Scale(domain=["Mastodon", "Bluesky"], range=[[1, 0], [6, 3]])


def bars(frame: pd.DataFrame, x: str, y: str, *, title: str, x_title: str, y_title: str,
         order: list[str], horizontal: bool = False) -> alt.Chart:
    """Plain bars with a title naming what they count (one chart per platform, not one colour each).

    ``order`` fixes the categories, so charts for two platforms line up even where one has no posts.
    """
    category = alt.X if not horizontal else alt.Y
    value = alt.Y if not horizontal else alt.X
    encoding = {
        ("y" if horizontal else "x"): category(f"{x}:O", title=x_title, sort=order, scale=alt.Scale(domain=order),
                                               axis=alt.Axis(labelAngle=0, labelLimit=200)),
        ("x" if horizontal else "y"): value(f"{y}:Q", title=y_title, axis=alt.Axis(tickMinStep=1, format="d")),
    }
    return alt.Chart(frame, title=title).mark_bar().encode(**encoding, tooltip=[x, y]).properties(
        height=alt.Step(26) if horizontal else 200)


def lines_per_platform(frame: pd.DataFrame, x: str, y: str, *, title: str, x_title: str, y_title: str,
                       order: list[str] | None = None) -> alt.Chart:
    """One line per platform, with its own point shape and dash pattern as well as colour.

    The legend lists only the platforms in ``frame``: filtered to Bluesky, it does not offer Mastodon.
    """
    shown = [p for p in _SHAPES.domain if p in set(frame["Platform"])] if "Platform" in frame else []
    shapes = alt.Scale(domain=shown, range=[_SHAPES.range[_SHAPES.domain.index(p)] for p in shown])
    dashes = alt.Scale(domain=shown, range=[_DASHES.range[_DASHES.domain.index(p)] for p in shown])
    return alt.Chart(frame, title=title).mark_line(point=alt.OverlayMarkDef(size=70, filled=True)).encode(
        x=alt.X(f"{x}:O", title=x_title, sort=order, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:Q", title=y_title),
        color=alt.Color("Platform:N", scale=alt.Scale(domain=shown), legend=alt.Legend(orient="bottom")),
        shape=alt.Shape("Platform:N", scale=shapes),
        strokeDash=alt.StrokeDash("Platform:N", scale=dashes),
        tooltip=["Platform", x, alt.Tooltip(f"{y}:Q", format=".1f")],
    ).properties(height=240)
