"""Tags by group, as the dashboard shows them: prefix groups in natural order, and a collapsible section."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from app.ui.monitor.chart import ScalarChart
from app.ui.section_toggle import section_toggle, show_expanded

_GROUP_SEPARATORS = re.compile(r"[_\-@.]")
_DIGITS = re.compile(r"(\d+)")
OTHER_GROUP = "other"


def tag_prefix(tag: str) -> str:
    """A tag's prefix: the part before the first '/' (TensorBoard's rule), or for a flat tag, before
    its first '_', '-', '@' or '.' (`train_loss_step` -> `train`)."""
    if "/" in tag:
        return tag.split("/", 1)[0] or tag
    return _GROUP_SEPARATORS.split(tag, 1)[0] or tag


def natural_key(text: str) -> list[tuple[int, int, str]]:
    """Sort key that orders numbers by value, as TensorBoard sorts tags (`loss_2` before `loss_10`)."""
    parts = [part for part in _DIGITS.split(text) if part]
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in parts]


def group_tags(tags: list[str]) -> dict[str, list[str]]:
    """Tags by group, groups in display order: a '/' prefix is always a group; a flat prefix is one
    when at least two tags share it, and the lone flat tags (`epoch`, `lr-SGD`) close the list as "other"."""
    counts: dict[str, int] = {}
    for tag in tags:
        counts[tag_prefix(tag)] = counts.get(tag_prefix(tag), 0) + 1
    groups: dict[str, list[str]] = {}
    for tag in sorted(tags, key=natural_key):
        prefix = tag_prefix(tag)
        name = prefix if "/" in tag or counts[prefix] > 1 else OTHER_GROUP
        groups.setdefault(name, []).append(tag)
    order = sorted(groups, key=lambda name: (name == OTHER_GROUP, natural_key(name)))
    return {name: groups[name] for name in order}


class TagGroup(QFrame):
    """A collapsible section of charts that share a prefix."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setObjectName("TagGroup")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(4)
        self.header = section_toggle(self, "TagGroupHeader", expanded=True)
        self.header.toggled.connect(self._on_toggled)
        layout.addWidget(self.header)
        self.body = QWidget(self)
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        layout.addWidget(self.body)

    @property
    def expanded(self) -> bool:
        """Whether the charts are shown."""
        return self.header.isChecked()

    def place(self, charts: list[ScalarChart], columns: int) -> None:
        """Lay the charts out in a grid of `columns`."""
        while self.grid.count():
            self.grid.takeAt(0)
        for index, chart in enumerate(charts):
            chart.setParent(self.body)
            self.grid.addWidget(chart, index // columns, index % columns)
            chart.setVisible(True)
        for column in range(columns):
            self.grid.setColumnStretch(column, 1)
        for column in range(columns, self.grid.columnCount()):
            self.grid.setColumnStretch(column, 0)
        count = len(charts)
        self.header.setText(f"{self.name}   ({count} chart{'s' if count != 1 else ''})")

    def _on_toggled(self, expanded: bool) -> None:
        show_expanded(self.header, expanded)
        self.body.setVisible(expanded)
