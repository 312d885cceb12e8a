"""Charts for the office, as PNG bytes, with Chinese labels that render.

matplotlib's own fonts have no Chinese glyphs: labels would come out as
boxes. A CJK font is looked up among the installed ones (or taken from
[stats] font_file); without one, charts fail with a message that says what to
install, and the figures still go out as text.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
CJK_FILE_MARKS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback")
INSTALL_HINT = (
    "no Chinese (CJK) font found for charts: install one "
    "(Debian/Ubuntu: apt-get install fonts-wqy-microhei) or set [stats] font_file"
)


class FontMissing(RuntimeError):
    """No font with Chinese glyphs is available."""


@cache
def cjk_font(font_file: str | None = None) -> font_manager.FontProperties:
    """The font to draw Chinese with, or FontMissing saying what to install."""
    if font_file:
        if not Path(font_file).is_file():
            raise FontMissing(f"[stats] font_file {font_file} does not exist")
        return font_manager.FontProperties(fname=font_file)
    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return font_manager.FontProperties(fname=installed[family])
    # matplotlib's font cache may predate a font installed since: look on disk too.
    for path in sorted(font_manager.findSystemFonts()):
        if any(mark in Path(path).name.lower() for mark in CJK_FILE_MARKS):
            return font_manager.FontProperties(fname=path)
    raise FontMissing(INSTALL_HINT)


def rates_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    font_file: str | None = None,
) -> bytes:
    """Grouped bars: one group of bars per label, one bar per named rate (0–100%)."""
    font = cjk_font(font_file)
    figure, axes = plt.subplots(figsize=(10, 5), dpi=110)
    try:
        width = 0.8 / max(len(series), 1)
        for n, (name, values) in enumerate(series.items()):
            xs = [i + n * width for i in range(len(labels))]
            heights = [100 * (v or 0.0) for v in values]
            axes.bar(xs, heights, width=width, label=name)
        axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))])
        axes.set_xticklabels(labels, fontproperties=font, rotation=20)
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.axhline(90, color="grey", linestyle="--", linewidth=0.8)
        axes.set_title(title, fontproperties=font)
        axes.legend(prop=font, loc="lower right", fontsize=8)
        return _png(figure)
    finally:
        plt.close(figure)


def trend_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    target: float,
    font_file: str | None = None,
) -> bytes:
    """Lines over rounds (0–100%), with the target as a dashed line."""
    font = cjk_font(font_file)
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=110)
    try:
        for name, values in series.items():
            axes.plot(
                labels, [None if v is None else 100 * v for v in values], marker="o", label=name
            )
        axes.axhline(100 * target, color="grey", linestyle="--", linewidth=0.8)
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.set_title(title, fontproperties=font)
        axes.legend(prop=font, loc="lower right")
        for tick in axes.get_xticklabels():
            tick.set_fontproperties(font)
        return _png(figure)
    finally:
        plt.close(figure)


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
