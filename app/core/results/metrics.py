"""``metrics_summary.json`` (TAO_FACTS 2.7) as a flat, display-ready list of rows.

Accepted shapes: the nested nuScenes summaries (detection: ``mean_ap``, ``nd_score``,
``label_aps``, ``tp_errors`` ...; tracking: ``amota``, ``label_metrics`` ...), the flat keys TAO logs
(``img_bbox_NuScenes/mAP``, ``img_bbox_NuScenes/person_AP_dist_2.0``, ``img_bbox_HOTA/...``), and
either of them nested under an ``img_bbox_*`` key. ``cfg`` and ``meta`` are configuration and skipped.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECTION_ORDER = ("Summary", "Tracking", "Errors", "Per class", "HOTA", "Other")
_HEADLINE = {
    "mean_ap": "mAP", "map": "mAP", "nd_score": "NDS", "nds": "NDS", "amota": "AMOTA", "amotp": "AMOTP",
}  # fmt: skip
_ERRORS = {
    "trans_err": ("mATE", "translation error"),
    "scale_err": ("mASE", "scale error"),
    "orient_err": ("mAOE", "orientation error"),
    "vel_err": ("mAVE", "velocity error"),
    "attr_err": ("mAAE", "attribute error"),
}
_MEAN_ERRORS = {short.lower(): short for short, _ in _ERRORS.values()}
_TRACKING = frozenset(
    {
        "recall", "motar", "gt", "mota", "motp", "mt", "ml", "faf",
        "tp", "fp", "fn", "ids", "frag", "tid", "lgd",
    }
)  # fmt: skip
_COUNTS = frozenset({"gt", "mt", "ml", "tp", "fp", "fn", "ids", "frag"})
_SKIPPED = frozenset({"cfg", "meta"})
_CLASS_AP = re.compile(r"^(?P<cls>.+)_AP_dist_(?P<dist>[0-9.]+)$")
_CLASS_ERROR = re.compile(r"^(?P<cls>.+)_(?P<err>trans_err|scale_err|orient_err|vel_err|attr_err)$")


class MetricsError(ValueError):
    """The metrics file cannot be read; the message names the file."""


@dataclass(frozen=True)
class MetricRow:
    """One metric ready to show: section, label, value (None when not a number) and its text."""

    section: str
    label: str
    value: float | None
    text: str
    key: str


@dataclass
class MetricsSummary:
    """All metrics of one file in display order."""

    source: str
    rows: list[MetricRow]
    warnings: list[str] = field(default_factory=list)

    def value(self, label: str, section: str | None = None) -> float | None:
        """The value of the first row with this label (and section, if given)."""
        for row in self.rows:
            if row.label == label and (section is None or row.section == section):
                return row.value
        return None


def load_metrics_summary(path: str | os.PathLike[str]) -> MetricsSummary:
    """Read a ``metrics_summary.json`` file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MetricsError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise MetricsError(f"{path}: not a text file ({exc})") from exc
    return parse_metrics_summary(text, str(path))


def parse_metrics_summary(text: str | bytes, source_name: str) -> MetricsSummary:
    """Parse the text of a metrics summary."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise MetricsError(f"{source_name}: not valid JSON at {where}: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise MetricsError(f"{source_name}: expected a JSON object of metrics, got {type(document).__name__}")
    rows = [_row(path, value) for path, value in _leaves(document, ())]
    rows.sort(key=_display_order)
    warnings = [] if rows else [f"{source_name}: no numeric metrics found"]
    return MetricsSummary(source_name, rows, warnings)


def _display_order(row: MetricRow) -> tuple[int, int]:
    """Sections in ``SECTION_ORDER``; in the summary, mAP, NDS, AMOTA, AMOTP; otherwise file order."""
    headline = ("mAP", "NDS", "AMOTA", "AMOTP")
    first_word = row.label.split(" ")[0]
    rank = headline.index(first_word) if row.section == "Summary" and first_word in headline else 0
    return SECTION_ORDER.index(row.section), rank


def _leaves(node: dict[str, Any], prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    found: list[tuple[tuple[str, ...], Any]] = []
    for key, value in node.items():
        if key in _SKIPPED:
            continue
        path = (*prefix, *str(key).split("/"))
        if isinstance(value, dict):
            found.extend(_leaves(value, path))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            found.append((path, value))
    return found


def _row(path: tuple[str, ...], value: float | None) -> MetricRow:
    family = ""
    if path[0].startswith("img_bbox") and len(path) > 1:
        family = path[0].removeprefix("img_bbox").strip("_")
        path = path[1:]
    section, label = _describe(path)
    if family.startswith("HOTA"):
        section = "HOTA"
        variant = family.removeprefix("HOTA").strip("_")
        label = f"{label} ({variant})" if variant else label
    elif family not in ("", "NuScenes"):
        label = f"{label} ({family})"
    return MetricRow(section, label, _number(value), _text(value, path[-1]), "/".join(path))


def _describe(path: tuple[str, ...]) -> tuple[str, str]:
    leaf = path[-1]
    if len(path) == 1:
        return _describe_top_level(leaf)
    head = path[0]
    if head == "label_aps" and len(path) == 3:
        return "Per class", f"{path[1]} AP @ {path[2]} m"
    if head == "mean_dist_aps" and len(path) == 2:
        return "Per class", f"{path[1]} AP"
    if head == "label_tp_errors" and len(path) == 3 and path[2] in _ERRORS:
        return "Per class", f"{path[1]} {_ERRORS[path[2]][1]}"
    if head in ("tp_errors", "tp_scores") and leaf in _ERRORS:
        suffix = "" if head == "tp_errors" else " score"
        return "Errors", f"{_ERRORS[leaf][0]}{suffix}"
    if head == "label_metrics" and len(path) == 3:
        return "Per class", f"{path[2]} {path[1].upper()}"
    return "Other", " / ".join(path)


def _describe_top_level(leaf: str) -> tuple[str, str]:
    lowered = leaf.lower()
    if lowered in _HEADLINE:
        return "Summary", _HEADLINE[lowered]
    if lowered in _MEAN_ERRORS:
        return "Errors", _MEAN_ERRORS[lowered]
    if lowered in _TRACKING:
        return "Tracking", leaf.upper()
    if lowered == "eval_time":
        return "Other", "evaluation time (s)"
    class_ap = _CLASS_AP.match(leaf)
    if class_ap:
        return "Per class", f"{class_ap['cls']} AP @ {class_ap['dist']} m"
    class_error = _CLASS_ERROR.match(leaf)
    if class_error:
        return "Per class", f"{class_error['cls']} {_ERRORS[class_error['err']][1]}"
    return "Other", leaf


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _text(value: float | None, leaf: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int) or (leaf.lower() in _COUNTS and float(value).is_integer()):
        return f"{int(value):,}"
    return f"{value:.4f}"
