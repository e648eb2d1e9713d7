"""One editor widget per field kind, chosen from a single registry."""

from __future__ import annotations

import math
import sys
from typing import Any, ClassVar

import yaml
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.skills.fields import Field, FieldKind

_PATH_HINTS = (
    "path",
    "file",
    "_dir",
    "root",
    "anchor",
    "checkpoint",
    "onnx",
    "images_dir",
    "jsonfile_prefix",
)
_INT_LIMIT = 2**31 - 1


def looks_like_path(field: Field) -> bool:
    """String fields that hold a file or folder path get a browse button."""
    name = field.name.lower()
    return field.kind is FieldKind.STRING and (name == "data" or any(h in name for h in _PATH_HINTS))


def _flow_yaml(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("...").strip()


class FieldEditor(QWidget):
    """Base editor: shows one value and emits ``edited`` with the new value (or a parse error)."""

    edited = Signal(object)
    invalid = Signal(str)

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._updating = False

    def set_value(self, value: Any) -> None:
        """Show a value without emitting ``edited``."""
        self._updating = True
        try:
            self._show(value)
        finally:
            self._updating = False

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def _emit(self, value: Any) -> None:
        if not self._updating:
            self.edited.emit(value)


class TextEditor(FieldEditor):
    """A one-line editor that parses its text on every edit (base of numbers, lists, strings)."""

    placeholder = ""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(self.placeholder)
        self.line.textEdited.connect(self._on_text_edited)
        self._layout.addWidget(self.line)

    def _show(self, value: Any) -> None:
        self.line.setText(self.format(value))

    def format(self, value: Any) -> str:
        """Text for a value."""
        return "" if value is None else str(value)

    def parse(self, text: str) -> Any:
        """Value for a text; raises ValueError with a message for the user."""
        return text

    def _on_text_edited(self, text: str) -> None:
        if text.strip() == "???":
            self._emit("???")
            return
        try:
            value = self.parse(text)
        except ValueError as exc:
            self.invalid.emit(str(exc))
            return
        self._emit(value)


class StringEditor(TextEditor):
    """Free text."""


class PathEditor(StringEditor):
    """A path with a browse button (paths are the host's: the button helps on this computer)."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.line.setPlaceholderText("path on the host")
        browse = QToolButton(self)
        browse.setText("…")
        browse.setToolTip("Browse this computer")
        browse.clicked.connect(self._on_browse_clicked)
        self._layout.addWidget(browse)

    def _on_browse_clicked(self) -> None:
        wants_folder = any(h in self.field.name for h in ("_dir", "root", "prefix"))
        if wants_folder:
            chosen = QFileDialog.getExistingDirectory(self, self.field.label, self.line.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, self.field.label, self.line.text())
        if chosen:
            self.line.setText(chosen)
            self._emit(chosen)


class _SpinEditor(FieldEditor):
    """Shared behaviour of the bounded spin boxes: out-of-range and unset values are still shown."""

    spin: QSpinBox | QDoubleSpinBox

    def _setup(self, spin: QSpinBox | QDoubleSpinBox, low: float, high: float, floor: float) -> None:
        self.spin = spin
        self.low, self.high, self.floor = low, high, floor
        self._special = False
        spin.setRange(low, high)  # type: ignore[arg-type]
        spin.setKeyboardTracking(True)
        spin.setAccelerated(True)
        spin.valueChanged.connect(self._on_spin_changed)
        self._layout.addWidget(spin, 1)

    def _show(self, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._special = False
            self.spin.setSpecialValueText("")
            self.spin.setRange(min(self.low, value), max(self.high, value))  # type: ignore[arg-type]
            self.spin.setValue(value)  # type: ignore[arg-type]
        else:
            self._special = True
            self.spin.setSpecialValueText("???" if value == "???" else "not set")
            self.spin.setRange(self.floor, self.high)  # type: ignore[arg-type]
            self.spin.setValue(self.floor)  # type: ignore[arg-type]

    def _on_spin_changed(self, value: float) -> None:
        if self._updating:
            return
        if self._special:
            if value == self.spin.minimum():
                return
            self._special = False
            self.spin.setSpecialValueText("")
        self._emit(self._typed(value))

    def _typed(self, value: float) -> Any:
        return value


class IntEditor(_SpinEditor):
    """A spin box bounded by the schema's minimum and maximum."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        low = int(field.minimum) if field.minimum is not None and field.bounded_below else -_INT_LIMIT
        high = int(field.maximum) if field.maximum is not None and field.bounded_above else _INT_LIMIT
        self._setup(
            QSpinBox(self), max(low, -_INT_LIMIT), min(high, _INT_LIMIT), max(low - 1, -_INT_LIMIT - 1)
        )

    def _typed(self, value: float) -> Any:
        return int(value)


class ScientificSpinBox(QDoubleSpinBox):
    """A double spin box that shows and accepts any float, ``5e-05`` included, and steps by magnitude."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(320)

    def textFromValue(self, value: float) -> str:
        """The shortest text that reads back as the value."""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(float(value))

    def valueFromText(self, text: str) -> float:
        """Parse the text as a float (the validator has accepted it)."""
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Acceptable when the text is a float in range, intermediate while being typed."""
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped in ("", "-", "+", ".", "-.", "+.") or stripped.lower().endswith(
                ("e", "e-", "e+")
            )
            state = QValidator.State.Intermediate if partial else QValidator.State.Invalid
            return state, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        """Step by a tenth of the value's order of magnitude (0.5 -> 0.05, 5e-5 -> 5e-6)."""
        value = self.value()
        magnitude = 10 ** math.floor(math.log10(abs(value))) if value else 0.1
        self.setValue(value + steps * magnitude / 10)


class FloatEditor(_SpinEditor):
    """A real number in a bounded spin box; scientific notation welcome."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        low = field.minimum if field.minimum is not None else -math.inf
        high = field.maximum if field.maximum is not None else math.inf
        self._setup(ScientificSpinBox(self), low, high, -sys.float_info.max)

    def _typed(self, value: float) -> Any:
        return float(value)


class ListEditor(TextEditor):
    """A list written as YAML flow text: ``[0, 1]``."""

    placeholder = "[a, b, ...]"

    def format(self, value: Any) -> str:
        return "" if value is None else _flow_yaml(value)

    def parse(self, text: str) -> Any:
        try:
            value = yaml.safe_load(text) if text.strip() else []
        except yaml.YAMLError:
            raise ValueError("write the list as [a, b, c]") from None
        if not isinstance(value, list):
            raise ValueError("write the list as [a, b, c]")
        return value


class BoolEditor(FieldEditor):
    """A check box."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.box = QCheckBox(self)
        self.box.toggled.connect(self._emit)
        self._layout.addWidget(self.box)
        self._layout.addStretch(1)

    def _show(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class EnumEditor(FieldEditor):
    """A combo box of the schema's options (a value outside them is shown, flagged by the model)."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.combo = QComboBox(self)
        for option in field.enum or []:
            self.combo.addItem(str(option), option)
        self.combo.activated.connect(self._on_activated)
        self._layout.addWidget(self.combo, 1)

    def _show(self, value: Any) -> None:
        index = self.combo.findData(value)
        if index < 0:
            self.combo.addItem(f"{value} (not an option)", value)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)

    def _on_activated(self, index: int) -> None:
        self._emit(self.combo.itemData(index))


class DictEditor(FieldEditor):
    """A key/value table for mappings such as ``label_map`` (values typed as YAML)."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        box = QVBoxLayout()
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Key", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(120)
        self.table.itemChanged.connect(self._on_item_changed)
        buttons = QHBoxLayout()
        add = QPushButton("Add", self)
        add.clicked.connect(self._on_add_clicked)
        remove = QPushButton("Remove", self)
        remove.clicked.connect(self._on_remove_clicked)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        box.addWidget(self.table)
        box.addLayout(buttons)
        self._layout.addLayout(box)

    def _show(self, value: Any) -> None:
        self.table.blockSignals(True)
        mapping = value if isinstance(value, dict) else {}
        self.table.setRowCount(len(mapping))
        for row, (key, item) in enumerate(mapping.items()):
            self.table.setItem(row, 0, QTableWidgetItem(str(key)))
            self.table.setItem(row, 1, QTableWidgetItem(_flow_yaml(item)))
        self.table.setFixedHeight(min(260, 60 + 26 * max(2, len(mapping))))
        self.table.blockSignals(False)

    def current(self) -> dict[str, Any]:
        """The table as a mapping (rows without a key are skipped)."""
        result: dict[str, Any] = {}
        for row in range(self.table.rowCount()):
            key_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            key = key_item.text().strip() if key_item else ""
            if not key:
                continue
            text = value_item.text() if value_item else ""
            try:
                result[key] = yaml.safe_load(text) if text.strip() else None
            except yaml.YAMLError:
                result[key] = text
        return result

    def _on_item_changed(self, _item: QTableWidgetItem) -> None:
        self._emit(self.current())

    def _on_add_clicked(self) -> None:
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(f"class_{row}"))
        self.table.setItem(row, 1, QTableWidgetItem(str(row)))
        self.table.blockSignals(False)
        self._emit(self.current())

    def _on_remove_clicked(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows or [self.table.rowCount() - 1]:
            if row >= 0:
                self.table.removeRow(row)
        self._emit(self.current())


class YamlEditor(FieldEditor):
    """Fallback for fields of an unknown type: the value as YAML text."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.text = QPlainTextEdit(self)
        self.text.setFixedHeight(70)
        self.text.setToolTip(f"Type '{field.tao_type}' is not known to TAO Desk: edit the value as YAML")
        self.text.textChanged.connect(self._on_text_changed)
        self._layout.addWidget(self.text)

    def _show(self, value: Any) -> None:
        self.text.setPlainText(yaml.safe_dump(value, default_flow_style=False).strip().removesuffix("..."))

    def _on_text_changed(self) -> None:
        if self._updating:
            return
        try:
            self._emit(yaml.safe_load(self.text.toPlainText()))
        except yaml.YAMLError as exc:
            self.invalid.emit(f"not valid YAML: {exc}")


class EditorRegistry:
    """The one mapping from field kind to editor class."""

    editors: ClassVar[dict[FieldKind, type[FieldEditor]]] = {
        FieldKind.INT: IntEditor,
        FieldKind.FLOAT: FloatEditor,
        FieldKind.BOOL: BoolEditor,
        FieldKind.STRING: StringEditor,
        FieldKind.ENUM: EnumEditor,
        FieldKind.LIST: ListEditor,
        FieldKind.DICT: DictEditor,
    }

    @classmethod
    def editor_class(cls, field: Field) -> type[FieldEditor]:
        """The editor for a field (paths get a browse button; unknown kinds fall back to YAML)."""
        if looks_like_path(field):
            return PathEditor
        return cls.editors.get(field.kind, YamlEditor)

    @classmethod
    def create(cls, field: Field, parent: QWidget | None = None) -> FieldEditor:
        """A new editor widget for a field."""
        editor = cls.editor_class(field)(field, parent)
        editor.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return editor
