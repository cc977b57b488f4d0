"""Open a page in headless Chromium as a person would, and report what it drew.

Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver; .ci/run installs them),
driven by Selenium. `check_page` loads a file, lists the console errors, takes a screenshot of the whole
page and, for each chart (<figure class="chart" id="chart-NAME">), measures the share of its area that is
not background: a chart that failed to draw is blank. `check_figures` measures, for a phone, each chart's
box (does it fit or scroll), its legend's keys (size, place, overlaps: legend_problems) and its bars' widths.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from tests.helpers import unavailable

CHROMIUM = os.environ.get("CAIXUN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CAIXUN_CHROMEDRIVER", "/usr/bin/chromedriver")
WIDTH = 1200  # CSS pixels, a laptop window
BACKGROUND_TOLERANCE = 16  # a pixel this close to white on every channel is background


@dataclass
class Drawn:
    visible: bool  # the chart has a size on the page
    width: int
    height: int
    ink_share: float  # the share of its pixels that are not background


@dataclass
class Shot:
    path: Path
    console_errors: list[str] = field(default_factory=list)
    charts: dict[str, Drawn] = field(default_factory=dict)
    overflow: int = 0  # CSS pixels the page is wider than the window: on a phone, a sideways scroll


def _driver(width: int):
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)) or not Path(CHROMEDRIVER).exists():
        unavailable(f"no headless browser: {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},900", "--force-device-scale-factor=1", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def ink_share(image: Image.Image) -> float:
    """The share of pixels that differ from white by more than BACKGROUND_TOLERANCE on some channel."""
    grey = image.convert("RGB").point(lambda v: 255 if v < 255 - BACKGROUND_TOLERANCE else 0).convert("L")
    histogram = grey.histogram()
    total = sum(histogram)
    return histogram[255] / total if total else 0.0


_CHART_BOXES = """
return Array.from(document.querySelectorAll('figure.chart')).map(f => {
  // what shows of the chart: its box within the figure's (a chart wider than a phone scrolls inside the figure)
  const svg = f.querySelector('svg'); const r = (svg || f).getBoundingClientRect(); const v = f.getBoundingClientRect();
  const left = Math.max(r.left, v.left), right = Math.min(r.right, v.right);
  return [f.id.replace(/^chart-/, ''), !!svg, left + window.scrollX, r.top + window.scrollY, right - left, r.height];
});
"""


def check_page(page: Path, screenshot: Path, *, charts: tuple[str, ...], width: int = WIDTH) -> Shot:
    """Load `page` (a file), wait for it, screenshot all of it to `screenshot`, measure each chart of `charts`."""
    driver = _driver(width)
    try:
        driver.get(page.resolve().as_uri())
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, height + 150)  # window chrome: the viewport must hold the whole page
        boxes = driver.execute_script(_CHART_BOXES)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        driver.save_screenshot(str(screenshot))
        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    finally:
        driver.quit()
    shot = Shot(screenshot, errors, overflow=overflow)
    with Image.open(screenshot) as image:
        for name, has_svg, left, top, box_width, box_height in boxes:
            area = (int(left), int(top), min(int(left + box_width), image.width), min(int(top + box_height), image.height))
            visible = has_svg and box_width > 0 and box_height > 0
            share = ink_share(image.crop(area)) if visible else 0.0
            shot.charts[name] = Drawn(visible, int(box_width), int(box_height), round(share, 4))
    missing = set(charts) - set(shot.charts)
    for name in sorted(missing):
        shot.charts[name] = Drawn(False, 0, 0, 0.0)
    return shot


# --- a chart's box, its legend and its bars, for a phone ------------------------------------------------------------

MIN_LEGEND_PX = 11  # CSS pixels: a legend's text no smaller than this


@dataclass
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def inside(self, other: Box, slack: float = 0.5) -> bool:
        return other.left - slack <= self.left and self.right <= other.right + slack

    def overlaps(self, other: Box) -> bool:
        across = self.left < other.right - 0.5 and other.left < self.right - 0.5
        return across and self.top < other.bottom - 0.5 and other.top < self.bottom - 0.5


@dataclass
class Figure:
    box: Box  # the figure on the page
    client_width: float  # of the box the chart's SVG is in
    scroll_width: float
    overflow_x: str  # that box's overflow-x
    legend: list[tuple[str, Box, float]]  # each key's text, where it is drawn and its font size (CSS px)
    bar_widths: list[float]  # CSS px, of each bar (elements whose id is <chart>-bar-…)

    def fits_or_scrolls(self) -> bool:
        """The chart fits its box, or its box scrolls sideways (not cut, not sticking out of the page)."""
        return self.scroll_width <= self.client_width + 1 or self.overflow_x in ("auto", "scroll")


_FIGURES = """
const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
return Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const plot = f.querySelector('svg').parentElement; const name = f.id.replace(/^chart-/, '');
  const keys = Array.from(f.querySelectorAll('ul.legend li > span:last-child')).map(
    s => [s.textContent, box(s), parseFloat(getComputedStyle(s).fontSize)]);
  const bars = Array.from(f.querySelectorAll('[id^="' + name + '-bar-"]')).map(b => b.getBoundingClientRect().width);
  return [name, box(f), plot.clientWidth, plot.scrollWidth, getComputedStyle(plot).overflowX, keys, bars];
});
"""


@dataclass
class Phone:
    overflow: int  # CSS pixels the page is wider than the window
    figures: dict[str, Figure]
    none: dict[str, str]  # id of each <p class="none"> (without "none-"): its text
    screenshot: Path


def check_figures(page: Path, screenshot: Path, *, width: int = 390) -> Phone:
    """Load `page` at `width`, screenshot it and measure each chart's box, legend and bars, and list the panels
    that say "None"."""
    driver = _driver(width)
    try:
        driver.get(page.resolve().as_uri())
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, height + 150)
        found = driver.execute_script(_FIGURES)
        none = driver.execute_script(
            "return Array.from(document.querySelectorAll('p.none')).map(p => [p.id.replace(/^none-/, ''), p.textContent]);"
        )
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        driver.save_screenshot(str(screenshot))
    finally:
        driver.quit()
    figures = {}
    for name, outer, client, scroll, overflow_x, keys, bars in found:
        legend = [(text, Box(*where), size) for text, where, size in keys]
        figures[name] = Figure(Box(*outer), client, scroll, overflow_x, legend, bars)
    return Phone(overflow, figures, dict(none), screenshot)


def legend_problems(figure: Figure) -> list[str]:
    """What makes a legend hard to read: text smaller than MIN_LEGEND_PX, outside its figure's box, or over
    another key's."""
    problems = []
    for n, (text, where, size) in enumerate(figure.legend):
        if size < MIN_LEGEND_PX:
            problems.append(f"{text!r} at {size} px")
        if not where.inside(figure.box) or where.right <= where.left:
            problems.append(f"{text!r} outside its figure: {where} not in {figure.box}")
        problems += [f"{text!r} over {other!r}" for other, box, _ in figure.legend[n + 1:] if where.overlaps(box)]
    return problems
