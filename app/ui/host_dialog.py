"""Adding or editing a host: this computer's Docker engine, or a machine reached over SSH.

An SSH host is connected once before it is saved. An unknown host key is shown to the user (type
and SHA256 fingerprint) to accept or refuse; a changed key is refused with the core's explanation.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.hosts.errors import HostError, UnknownHostKey
from app.core.hosts.known_hosts import accept_host_key
from app.core.hosts.session import open_session
from app.core.hosts.settings import DEFAULT_SOCKET_PATH, HostConfig, HostSettingsError
from app.ui.app_context import AppContext

_SSH_ADDRESS = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]]+\]|[^:\s]+)(?::(?P<port>\d+))?$")
KIND_TITLES = (("local", "This computer (local Docker engine)"), ("ssh", "Another machine, over SSH"))


def parse_ssh_address(text: str) -> tuple[str, str, int]:
    """(user, host, port) from ``user@host:port`` (user and port optional); ValueError otherwise."""
    match = _SSH_ADDRESS.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not an SSH address like user@gpu-server or user@10.0.0.5:2222")
    port = int(match.group("port") or 22)
    return match.group("user") or "", match.group("host").strip("[]"), port


def verify_ssh_host(config: HostConfig) -> UnknownHostKey | None:
    """Connect once, verifying the host key; an unknown key is returned for the user to judge.

    Any other failure (changed key, refused login, no route) raises `HostError` with its message.
    """
    try:
        open_session(config).close()
    except UnknownHostKey as unknown:
        return unknown
    return None


def host_key_question(unknown: UnknownHostKey) -> str:
    """What the user is asked before trusting a new host key."""
    return (
        f"TAO Desk has not seen the host key of {unknown.host}:{unknown.port} before.\n\n"
        f"Key type:\t{unknown.key_type}\nFingerprint:\t{unknown.fingerprint_sha256}\n\n"
        "Compare the fingerprint with the one the host's administrator gives you (on the host: "
        "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub). Trust this key and connect?"
    )


class HostDialog(QDialog):
    """The form for one host; on Save it verifies an SSH host, stores the host and emits ``saved``."""

    saved = Signal(str)

    def __init__(
        self, context: AppContext, existing: HostConfig | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.existing = existing
        self.verifying = False
        self.setWindowTitle("Edit host" if existing else "Add a host")
        self.setMinimumWidth(620)
        self._build()
        self._load(existing or HostConfig.local_default())
        if existing is None:
            taken = {config.name for config in context.host_configs()}
            self.name_edit.setText("local" if "local" not in taken else "")

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.kind_combo = QComboBox(self)
        for kind, title in KIND_TITLES:
            self.kind_combo.addItem(title, kind)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("a short name, e.g. lab-a100")
        self.socket_edit = QLineEdit(self)
        self.socket_edit.setPlaceholderText(DEFAULT_SOCKET_PATH)
        self.address_edit = QLineEdit(self)
        self.address_edit.setPlaceholderText("user@gpu-server or user@10.0.0.5:2222")
        self.key_edit = QLineEdit(self)
        self.key_edit.setPlaceholderText("empty: the SSH agent and the keys in ~/.ssh")
        self.key_row = self._with_browse(self.key_edit, self._on_browse_key)
        self.workspace_edit = QLineEdit(self)
        self.workspace_edit.setPlaceholderText("a folder on that machine for job folders")
        self.workspace_browse = QPushButton("Browse…", self)
        self.workspace_browse.clicked.connect(self._on_browse_workspace)
        workspace_row = QWidget(self)
        row = QHBoxLayout(workspace_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.workspace_edit, 1)
        row.addWidget(self.workspace_browse)
        form.addRow("Kind", self.kind_combo)
        form.addRow("Name", self.name_edit)
        form.addRow("Docker socket", self.socket_edit)
        form.addRow("SSH address", self.address_edit)
        form.addRow("SSH key file", self.key_row)
        form.addRow("Workspace", workspace_row)
        self.form = form
        layout.addLayout(form)
        caption = QLabel(
            "Images (leave empty to use the skill's own image, e.g. for a registry mirror)", self
        )
        caption.setObjectName("PaneCaption")
        layout.addWidget(caption)
        self.images_table = QTableWidget(0, 3, self)
        self.images_table.setHorizontalHeaderLabels(["Skill", "Skill's image", "Use instead"])
        self.images_table.verticalHeader().hide()
        header = self.images_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.images_table)
        self.message = QLabel(self)
        self.message.setObjectName("DialogMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._on_save_clicked)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _with_browse(self, edit: QLineEdit, handler: object) -> QWidget:
        holder = QWidget(self)
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton("Browse…", holder)
        button.clicked.connect(handler)
        row.addWidget(button)
        return holder

    def _load(self, config: HostConfig) -> None:
        self.kind_combo.setCurrentIndex(0 if config.kind == "local" else 1)
        self.name_edit.setText(config.name)
        self.name_edit.setReadOnly(self.existing is not None)
        self.socket_edit.setText(config.socket_path)
        if config.kind == "ssh":
            self.address_edit.setText(config.address)
        self.key_edit.setText(config.key_file or "")
        self.workspace_edit.setText(config.workspace)
        skills = sorted(self.context.bank.skills.values(), key=lambda skill: skill.name)
        self.images_table.setRowCount(len(skills))
        for row, skill in enumerate(skills):
            for column, text in enumerate((skill.name, skill.default_image or "-")):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.images_table.setItem(row, column, item)
            self.images_table.setItem(row, 2, QTableWidgetItem(config.default_images.get(skill.name, "")))
        self.images_table.resizeRowsToContents()
        rows_height = sum(self.images_table.rowHeight(row) for row in range(len(skills)))
        self.images_table.setFixedHeight(
            self.images_table.horizontalHeader().sizeHint().height() + rows_height + 4
        )
        self._on_kind_changed()

    def kind(self) -> str:
        """``local`` or ``ssh``."""
        return str(self.kind_combo.currentData())

    def set_kind(self, kind: str) -> None:
        """Switch between a local and an SSH host."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def _on_kind_changed(self, _index: int = -1) -> None:
        ssh = self.kind() == "ssh"
        for widget, visible in ((self.socket_edit, not ssh), (self.address_edit, ssh), (self.key_row, ssh)):
            self.form.setRowVisible(widget, visible)
        self.workspace_browse.setVisible(not ssh)
        if ssh and self.workspace_edit.text() == HostConfig.local_default().workspace:
            self.workspace_edit.clear()

    def _on_browse_key(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "SSH private key", str(Path.home() / ".ssh"))
        if chosen:
            self.key_edit.setText(chosen)

    def _on_browse_workspace(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Workspace folder", self.workspace_edit.text())
        if chosen:
            self.workspace_edit.setText(chosen)

    # -- saving ------------------------------------------------------------------------------------

    def config_from_fields(self) -> HostConfig:
        """The host as the fields describe it; ValueError with a plain message when they do not."""
        base = self.existing or HostConfig(name="")
        name = self.name_edit.text().strip()
        if self.existing is None and any(c.name == name for c in self.context.host_configs()):
            raise ValueError(f"There is already a host named '{name}'.")
        overrides = {}
        for row in range(self.images_table.rowCount()):
            skill, image = self.images_table.item(row, 0), self.images_table.item(row, 2)
            if skill is not None and image is not None and image.text().strip():
                overrides[skill.text()] = image.text().strip()
        config = HostConfig(
            **{**base.to_dict(), "name": name, "kind": self.kind(), "default_images": overrides}
        )
        workspace = self.workspace_edit.text().strip()
        if self.kind() == "local":
            config.socket_path = self.socket_edit.text().strip() or DEFAULT_SOCKET_PATH
            config.workspace = str(Path(workspace).expanduser()) if workspace else ""
            if not config.workspace:
                raise ValueError("Choose a workspace folder for the job folders.")
        else:
            config.ssh_user, config.ssh_host, config.ssh_port = parse_ssh_address(self.address_edit.text())
            config.key_file = self.key_edit.text().strip() or None
            config.workspace = workspace
        problems = config.problems()
        if problems:
            raise ValueError("; ".join(problems))
        return config

    def _on_save_clicked(self) -> None:
        if self.verifying:
            return
        try:
            config = self.config_from_fields()
        except ValueError as error:
            self._show(str(error), "error")
            return
        if config.kind == "ssh":
            self._verify(config)
        else:
            self._save(config)

    def _verify(self, config: HostConfig) -> None:
        self.verifying = True
        self.buttons.setEnabled(False)
        self._show(f"Connecting to {config.address}…", "busy")
        self.context.run(
            verify_ssh_host,
            config,
            on_done=lambda unknown: self._on_verified(config, unknown),
            on_error=self._on_verify_failed,
        )

    def _on_verified(self, config: HostConfig, unknown: UnknownHostKey | None) -> None:
        self.verifying = False
        self.buttons.setEnabled(True)
        if unknown is None:
            self._save(config)
            return
        answer = QMessageBox.question(
            self,
            "Trust this host key?",
            host_key_question(unknown),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            self._show(
                f"The host key of {unknown.host}:{unknown.port} was not accepted; nothing was saved.", "error"
            )
            return
        try:
            accept_host_key(unknown.host, unknown.port, unknown.key_type, unknown.key_base64)
        except HostError as error:
            self._show(str(error), "error")
            return
        self._verify(config)

    def _on_verify_failed(self, message: str) -> None:
        self.verifying = False
        self.buttons.setEnabled(True)
        self._show(message, "error")

    def _save(self, config: HostConfig) -> None:
        try:
            self.context.hosts.put(config)
        except HostSettingsError as error:
            self._show(str(error), "error")
            return
        self.context.notify_hosts_changed(config.name)
        self.saved.emit(config.name)
        self.accept()

    def _show(self, text: str, state: str) -> None:
        self.message.setText(text)
        self.message.setProperty("state", state)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
