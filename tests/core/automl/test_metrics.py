"""Reading a trial's metric from TensorBoard scalars or TAO status KPIs as the job writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.automl.metrics import SCALARS, STATUS, TrialMetricReader
from app.core.telemetry.files import LocalFiles
from tests.infra.tfevents_writer import write_simple_scalars


def _status_line(message: str, kpi: dict[str, float] | None = None, epoch: int | None = None) -> str:
    data: dict[str, object] = {} if epoch is None else {"epoch": epoch, "max_epoch": 2}
    data.update(
        {"date": "6/19/2026", "time": "14:3:7", "status": "RUNNING", "verbosity": "INFO", "message": message}
    )
    if kpi is not None:
        data["kpi"] = kpi
    return json.dumps(data) + "\n"


def test_status_kpis_give_one_value_per_validation_despite_sticky_blocks(tmp_path: Path) -> None:
    task = tmp_path / "train"
    task.mkdir()
    reader = TrialMetricReader(LocalFiles(), str(task), "val_loss")
    assert reader.poll() == [] and reader.origin is None, "nothing written yet"
    lines = []
    for epoch, (train_loss, val_loss) in enumerate([(1.2, 1.0), (0.9, 0.7), (0.8, 0.7)]):
        lines.append(_status_line("Training loop in progress", epoch=epoch))
        kpi = {"train_loss": train_loss, "val_loss": val_loss}  # TAO's kpi block accumulates
        lines.append(_status_line("Train metrics generated.", kpi))
        lines.append(_status_line("Eval metrics generated.", kpi))
        lines.append(_status_line("still running", kpi))  # sticky repeat
    text = "".join(lines)
    status = task / "status.json"
    status.write_text(text[: len(text) // 2 + 7])  # cut mid-line, as a live file is
    first = reader.poll()
    status.write_text(text)
    rest = reader.poll()
    values = [(p.step, p.value, p.epoch) for p in first + rest]
    assert values == [(0, 1.0, 0), (1, 0.7, 1), (2, 0.7, 2)], "equal values in new epochs still count"
    assert reader.origin == STATUS and reader.last == 0.7
    assert reader.poll() == []


def test_scalars_win_when_they_hold_the_metric(tmp_path: Path) -> None:
    task = tmp_path / "train"
    events = task / "lightning_logs" / "version_1"
    write_simple_scalars(
        events, [("train_loss_step", s, 1.0) for s in range(5)] + [("val_mAP", 7, 0.1), ("val_mAP", 15, 0.25)]
    )
    reader = TrialMetricReader(LocalFiles(), str(task), "val_mAP")
    points = reader.poll()
    assert [(p.step, p.value) for p in points] == [(0, pytest.approx(0.1)), (1, pytest.approx(0.25))]
    assert reader.origin == SCALARS
    write_simple_scalars(events, [("val_mAP", 23, 0.3)], suffix=".2")
    assert [p.step for p in reader.poll()] == [2]


def test_a_metric_that_never_shows_up_lists_what_was_seen(tmp_path: Path) -> None:
    task = tmp_path / "train"
    task.mkdir()
    (task / "status.json").write_text(
        _status_line("Eval metrics generated.", {"val_loss": 0.5, "val_acc": 0.8})
    )
    reader = TrialMetricReader(LocalFiles(), str(task), "val_losss")
    assert reader.poll() == [] and reader.last is None
    assert reader.names_seen() == ["val_acc", "val_loss"]
