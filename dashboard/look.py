"""How the dashboard looks on any screen: its favicon, its spacing, how often it looks for changes."""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw

WATCH_SECONDS = 3  # how often an open page checks whether the database file changed

# Streamlit leaves about 110 px above each title (room for a toolbar we hide); on a phone that is an
# eighth of the screen. Wide tables scroll sideways: the fade at the right edge says there is more.
CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem; }
[data-testid="stSidebar"] [data-testid="stCaptionContainer"] { overflow-wrap: normal; word-break: normal; }
[data-testid="stDataFrame"] { position: relative; }
[data-testid="stDataFrame"]::after {
  content: ""; position: absolute; top: 0; right: 0; width: 18px; height: 100%; pointer-events: none;
  background: linear-gradient(to right, transparent, rgba(128, 128, 128, 0.25));
}
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 3.5rem; padding-left: 0.75rem; padding-right: 0.75rem; }
}
</style>
"""


@functools.cache
def favicon() -> Image.Image:
    """A speech bubble drawn in memory: served by the dashboard itself, never fetched from elsewhere."""
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 6, 60, 46), radius=12, fill=(33, 102, 172, 255))
    draw.polygon([(16, 44), (30, 44), (14, 60)], fill=(33, 102, 172, 255))
    for x in (18, 32, 46):
        draw.ellipse((x - 4, 22, x + 4, 30), fill=(255, 255, 255, 255))
    return image
