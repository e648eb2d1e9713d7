"""The Hosts page under a real X server: adding a local host and checking it on the real Docker engine,
adding an SSH host (the private test sshd) by accepting its key, refusing a changed key, removing a host."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from app.core.hosts.known_hosts import app_known_hosts_path, fingerprint_of_base64, known_keys_for
from app.core.hosts.settings import HostStore
from app.ui.host_dialog import HostDialog, parse_ssh_address
from app.ui.main_window import MainWindow
from tests.infra.gui import open_main_window
from tests.infra.jobs import STANDIN_IMAGE, needs_standin
from tests.infra.sshd import SshServer
from tests.ui.conftest import save_screenshot

POSE = "tao-train-pose-classification"
LONG = 60_000


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    win = open_main_window(qtbot, 1500, 940)
    win.pages.setCurrentWidget(win.hosts_page)
    return win


def _save(qtbot: QtBot, dialog: HostDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert button is not None
    button.click()


def _set_image_override(dialog: HostDialog, skill: str, image: str) -> None:
    for row in range(dialog.images_table.rowCount()):
        item = dialog.images_table.item(row, 0)
        if item is not None and item.text() == skill:
            override = dialog.images_table.item(row, 2)
            assert override is not None
            override.setText(image)
            return
    raise AssertionError(f"{skill} is not in the images table")


def _host_rows(window: MainWindow) -> list[list[str]]:
    table = window.hosts_page.table
    return [
        [table.item(row, column).text() for column in range(table.columnCount())]  # type: ignore[union-attr]
        for row in range(table.rowCount())
    ]


def test_ssh_addresses_parse_with_optional_user_and_port() -> None:
    assert parse_ssh_address("ada@gpu-01:2222") == ("ada", "gpu-01", 2222)
    assert parse_ssh_address("10.0.0.5") == ("", "10.0.0.5", 22)
    assert parse_ssh_address("ada@[fe80::1]:22") == ("ada", "fe80::1", 22)
    with pytest.raises(ValueError, match="not an SSH address"):
        parse_ssh_address("ada@host:port")


@pytest.mark.docker
@needs_standin
def test_add_a_local_host_and_check_it(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, screenshot_dir: Path
) -> None:
    page = window.hosts_page
    dialog = page.add_host()
    assert dialog.isVisible() and dialog.name_edit.text() == "", "'local' is taken, so no name is suggested"
    dialog.set_kind("local")
    dialog.name_edit.setText("workstation")
    dialog.workspace_edit.setText(str(tmp_path / "experiments"))
    _set_image_override(dialog, POSE, STANDIN_IMAGE)
    _save(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = HostStore().get("workstation")
    assert saved.kind == "local" and saved.default_images == {POSE: STANDIN_IMAGE}
    assert ["workstation", "local", "/var/run/docker.sock", str(tmp_path / "experiments")] in _host_rows(
        window
    )
    assert page.selected_name() == "workstation"

    page.check_button.click()
    qtbot.waitUntil(lambda: "workstation" in page.reports, timeout=LONG)
    report = page.report_view
    assert report.docker_label.property("status") == "ok" and "Docker" in report.docker_label.text()
    assert report.gpu_note.text().startswith("No NVIDIA GPUs: CPU work only")
    assert report.gpu_note.property("status") is None, "a CPU-only host is not shown as an error"
    assert report.gpu_table.isHidden()
    assert "GiB free" in report.disk_label.text()
    standin = report.image_rows[STANDIN_IMAGE]
    assert standin.status.text() == "✔ present" and standin.pull_button.isHidden()
    missing = [image for image, row in report.image_rows.items() if row.pull_button.isVisible()]
    assert missing and all(image.startswith("nvcr.io/") for image in missing), "the skills' own images"
    row = report.image_rows[missing[0]]
    row.pull_button.click()
    qtbot.waitUntil(lambda: report.image_status(missing[0]) == "fail", timeout=LONG)
    assert f"Cannot pull {missing[0]}" in row.status.text(), "no registry here: the engine's reason is shown"
    assert row.pull_button.text() == "Retry" and row.progress.isHidden()
    save_screenshot(window, screenshot_dir, "hosts_page_checked")


@pytest.mark.ssh
def test_add_an_ssh_host_by_accepting_its_key(
    qtbot: QtBot,
    window: MainWindow,
    ssh_server: SshServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    screenshot_dir: Path,
) -> None:
    asked: list[str] = []

    def accept(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr("app.ui.host_dialog.QMessageBox.question", accept)
    dialog = window.hosts_page.add_host()
    dialog.set_kind("ssh")
    dialog.name_edit.setText("lab")
    dialog.address_edit.setText(f"{ssh_server.user}@{ssh_server.host}:{ssh_server.port}")
    dialog.key_edit.setText(str(ssh_server.client_key))
    dialog.workspace_edit.setText(str(tmp_path / "remote-experiments"))
    save_screenshot(dialog, screenshot_dir, "host_dialog_ssh")
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=LONG)
    fingerprint = fingerprint_of_base64(ssh_server.host_key_base64)
    assert len(asked) == 1 and fingerprint in asked[0] and ssh_server.host_key_type in asked[0]
    assert known_keys_for(ssh_server.host, ssh_server.port, [app_known_hosts_path()]) == {
        ssh_server.host_key_type: fingerprint
    }
    saved = HostStore().get("lab")
    assert (saved.kind, saved.ssh_host, saved.ssh_port, saved.ssh_user) == (
        "ssh",
        ssh_server.host,
        ssh_server.port,
        ssh_server.user,
    )
    assert ["lab", "SSH", saved.address, str(tmp_path / "remote-experiments")] in _host_rows(window)


@pytest.mark.ssh
def test_a_changed_ssh_host_key_is_refused(
    qtbot: QtBot, window: MainWindow, ssh_server: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    impostor = ssh_server.stranger_key.with_suffix(".pub").read_text().split()
    app_known_hosts_path().write_text(f"[{ssh_server.host}]:{ssh_server.port} {impostor[0]} {impostor[1]}\n")
    monkeypatch.setattr("app.ui.host_dialog.QMessageBox.question", lambda *_args: pytest.fail("not asked"))
    dialog = window.hosts_page.add_host()
    dialog.set_kind("ssh")
    dialog.name_edit.setText("lab")
    dialog.address_edit.setText(f"{ssh_server.user}@{ssh_server.host}:{ssh_server.port}")
    dialog.key_edit.setText(str(ssh_server.client_key))
    dialog.workspace_edit.setText(str(tmp_path / "w"))
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: "CHANGED" in dialog.message.text(), timeout=LONG)
    assert "refused" in dialog.message.text() and dialog.isVisible()
    assert "lab" not in [config.name for config in HostStore().load()]


def test_removing_the_last_host_offers_to_add_one(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "app.ui.hosts_page.QMessageBox.question", lambda *_args: QMessageBox.StandardButton.Yes
    )
    window.hosts_page.select("local")
    window.hosts_page.remove_button.click()
    assert HostStore().load() == [] and _host_rows(window) == []
    window.pages.setCurrentIndex(0)
    window.skill_list.select(POSE)
    view = window.current_skill_view()
    assert view is not None
    panel = view.page("train").launch_panel
    assert panel is not None
    assert panel.add_host_button.isVisible() and not panel.launch_button.isEnabled()
    panel.add_host_button.click()
    assert window.pages.currentWidget() is window.hosts_page
    assert window.hosts_page.dialog is not None and window.hosts_page.dialog.isVisible()
