"""The search-space editor: one row per AutoML parameter, its range or options, checked against the schema."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

from app.core.automl.space import ParameterKind, SearchParameter, SearchSpace, SearchSpaceError
from app.core.automl.space_edits import set_choices, set_range, set_searched

COLUMNS = ("Search", "Parameter", "Values", "Log", "Schema allows", "Spec value")


def format_number(value: float | None) -> str:
    """A compact number: ``0.0001`` -> ``1e-04``, infinities as ``∞``."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def schema_text(parameter: SearchParameter) -> str:
    """What the schema allows for a parameter, for the user."""
    if parameter.kind is ParameterKind.CHOICE:
        options = parameter.schema_choices or parameter.choices
        if parameter.weights and len(parameter.weights) == len(parameter.choices):
            total = sum(parameter.weights) or 1.0
            return ", ".join(
                f"{c} {w / total:.0%}" for c, w in zip(parameter.choices, parameter.weights, strict=True)
            )
        return ", ".join(map(str, options))
    low = parameter.schema_min if parameter.schema_min is not None else -math.inf
    high = parameter.schema_max if parameter.schema_max is not None else math.inf
    text = f"{format_number(low)} … {format_number(high)}"
    if parameter.math_cond:
        target = parameter.depends_on if "depends_on" in parameter.math_cond else ""
        text += f", {parameter.math_cond.replace('depends_on', target or 'depends_on')}"
    return text


class _ChoiceButton(QToolButton):
    """A button whose menu ticks the options a parameter takes."""

    toggled_options = Signal(list)

    def __init__(self, parameter: SearchParameter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.menu_ = QMenu(self)
        self.actions_: list[tuple[Any, QAction]] = []
        for option in parameter.schema_choices or parameter.choices:
            action = QAction(str(option), self.menu_)
            action.setCheckable(True)
            action.setChecked(option in parameter.choices)
            action.toggled.connect(self._on_toggled)
            self.menu_.addAction(action)
            self.actions_.append((option, action))
        self.setMenu(self.menu_)
        self._show()

    def chosen(self) -> list[Any]:
        """The ticked options."""
        return [option for option, action in self.actions_ if action.isChecked()]

    def _show(self) -> None:
        self.setText(", ".join(map(str, self.chosen())) or "(none)")

    def _on_toggled(self, _checked: bool) -> None:
        self._show()
        self.toggled_options.emit(self.chosen())


class SearchSpaceTable(QTableWidget):
    """Edits a SearchSpace in place: ``space_changed`` after an accepted edit, ``problems_changed`` always."""

    space_changed = Signal()
    problems_changed = Signal(list)

    def __init__(self, space: SearchSpace, parent: QWidget | None = None) -> None:
        super().__init__(len(space.parameters), len(COLUMNS), parent)
        self.setObjectName("SpaceTable")
        self.space = space
        self.problems: dict[str, str] = {}
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.edits: dict[str, tuple[QLineEdit, QLineEdit] | _ChoiceButton] = {}
        self.log_boxes: dict[str, QCheckBox] = {}
        self.search_boxes: dict[str, QCheckBox] = {}
        for row, parameter in enumerate(space.parameters):
            self._fill_row(row, parameter)
        self.verticalHeader().setDefaultSectionSize(34)

    def _fill_row(self, row: int, parameter: SearchParameter) -> None:
        box = QCheckBox(self)
        box.setChecked(parameter.searched)
        box.setToolTip("Search this parameter (unticked: it keeps the spec's value)")
        box.toggled.connect(lambda on, p=parameter.path: self._on_searched(p, on))
        self.search_boxes[parameter.path] = box
        self.setCellWidget(row, 0, _centered(box, self))
        name = QTableWidgetItem(parameter.path)
        name.setToolTip(f"{parameter.title}\n{parameter.path}")
        self.setItem(row, 1, name)
        if parameter.kind is ParameterKind.CHOICE:
            button = _ChoiceButton(parameter, self)
            button.toggled_options.connect(lambda chosen, p=parameter.path: self._on_choices(p, chosen))
            self.edits[parameter.path] = button
            self.setCellWidget(row, 2, button)
        else:
            low, high = (
                QLineEdit(format_number(parameter.low), self),
                QLineEdit(format_number(parameter.high), self),
            )
            for edit, end in ((low, "lower"), (high, "upper")):
                edit.setToolTip(f"The {end} end of the range searched")
                edit.editingFinished.connect(lambda p=parameter.path: self._on_range(p))
            self.edits[parameter.path] = (low, high)
            holder = QWidget(self)
            layout = QHBoxLayout(holder)
            layout.setContentsMargins(2, 1, 2, 1)
            layout.addWidget(low)
            layout.addWidget(QLabel("…", holder))
            layout.addWidget(high)
            self.setCellWidget(row, 2, holder)
            log = QCheckBox(self)
            log.setChecked(parameter.log)
            log.setToolTip("Draw values evenly on a log scale (needs a lower end above 0)")
            log.toggled.connect(lambda _on, p=parameter.path: self._on_range(p))
            self.log_boxes[parameter.path] = log
            self.setCellWidget(row, 3, _centered(log, self))
        self.setItem(row, 4, QTableWidgetItem(schema_text(parameter)))
        self.setItem(row, 5, QTableWidgetItem(_value_text(parameter.default)))
        self._show_enabled(parameter)

    def _show_enabled(self, parameter: SearchParameter) -> None:
        editor = self.edits[parameter.path]
        widgets: list[QWidget] = list(editor) if isinstance(editor, tuple) else [editor]
        if parameter.path in self.log_boxes:
            widgets.append(self.log_boxes[parameter.path])
        for widget in widgets:
            widget.setEnabled(parameter.searched)

    def _on_searched(self, path: str, on: bool) -> None:
        try:
            set_searched(self.space, path, on)
        except SearchSpaceError as error:
            self._set_problem(path, "; ".join(error.problems))
        self._show_enabled(self.space.parameter(path))
        if not on:
            self._set_problem(path, "")
        self.space_changed.emit()

    def _on_choices(self, path: str, chosen: list[Any]) -> None:
        try:
            set_choices(self.space, path, chosen)
        except SearchSpaceError as error:
            self._set_problem(path, "; ".join(error.problems))
            return
        self._set_problem(path, "")
        self.space_changed.emit()

    def _on_range(self, path: str) -> None:
        editor = self.edits[path]
        assert isinstance(editor, tuple)
        low_edit, high_edit = editor
        try:
            low, high = _number(path, low_edit.text()), _number(path, high_edit.text())
            set_range(self.space, path, low, high, self.log_boxes[path].isChecked())
        except SearchSpaceError as error:
            self._set_problem(path, "; ".join(error.problems))
            return
        self._set_problem(path, "")
        self.space_changed.emit()

    def _set_problem(self, path: str, message: str) -> None:
        if message:
            self.problems[path] = message
        else:
            self.problems.pop(path, None)
        editor = self.edits[path]
        for widget in editor if isinstance(editor, tuple) else (editor,):
            widget.setProperty("invalid", bool(message))
            widget.setToolTip(message or widget.toolTip())
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.problems_changed.emit(list(self.problems.values()))

    def set_range_text(self, path: str, low: str, high: str, log: bool | None = None) -> None:
        """Type a range as the user would (tests and scripted set-ups)."""
        editor = self.edits[path]
        assert isinstance(editor, tuple)
        editor[0].setText(low)
        editor[1].setText(high)
        if log is not None:
            self.log_boxes[path].blockSignals(True)
            self.log_boxes[path].setChecked(log)
            self.log_boxes[path].blockSignals(False)
        self._on_range(path)

    def set_searched_paths(self, paths: list[str]) -> None:
        """Tick exactly these parameters."""
        for path, box in self.search_boxes.items():
            box.setChecked(path in paths)


def _number(path: str, text: str) -> float:
    try:
        return float(text.replace("∞", "inf").strip())
    except ValueError:
        raise SearchSpaceError([f"{path}: '{text}' is not a number"]) from None


def _value_text(value: Any) -> str:
    return (
        format_number(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
    )


def _centered(widget: QWidget, parent: QWidget) -> QWidget:
    holder = QWidget(parent)
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(widget)
    return holder
