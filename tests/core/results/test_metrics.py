"""metrics_summary.json: nested nuScenes summaries and TAO's flat keys as display rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.results.metrics import SECTION_ORDER, MetricsError, load_metrics_summary, parse_metrics_summary


def test_the_sample_summary(samples_dir: Path) -> None:
    path = samples_dir / "sparse4d" / "metrics_summary.json"
    raw = json.loads(path.read_text())
    summary = load_metrics_summary(path)
    assert summary.warnings == []
    assert summary.rows[0].label == "mAP" and summary.rows[0].value == pytest.approx(raw["mean_ap"])
    assert summary.value("NDS") == pytest.approx(raw["nd_score"])
    assert summary.value("mATE") == pytest.approx(raw["tp_errors"]["trans_err"])
    classes = list(raw["label_aps"])
    for name in classes:
        assert summary.value(f"{name} AP @ 2.0 m") == pytest.approx(raw["label_aps"][name]["2.0"])
        assert summary.value(f"{name} orientation error") == pytest.approx(
            raw["label_tp_errors"][name]["orient_err"]
        )
    per_class = [row for row in summary.rows if row.section == "Per class"]
    assert len(per_class) == len(classes) * (4 + 1 + 5)
    assert not any(row.key.startswith("cfg") for row in summary.rows)
    sections = [row.section for row in summary.rows]
    assert sections == sorted(sections, key=SECTION_ORDER.index)


def test_tao_flat_keys() -> None:
    document = {
        "img_bbox_NuScenes/person_AP_dist_0.5": 0.25,
        "img_bbox_NuScenes/person_trans_err": 0.31,
        "img_bbox_NuScenes/mATE": 0.4,
        "img_bbox_NuScenes/NDS": 0.5,
        "img_bbox_NuScenes/mAP": 0.45,
        "img_bbox_NuScenes/amota": 0.6,
        "img_bbox_NuScenes/ids": 12.0,
        "img_bbox_NuScenes/fp": 30,
        "img_bbox_HOTA/HOTA": 55.5,
        "img_bbox_HOTA_IoU3D/HOTA": 41.0,
        "img_bbox_IoU3D/mAP": 0.2,
        "epoch": 3,
    }
    summary = parse_metrics_summary(json.dumps(document), "metrics_summary.json")
    rows = {row.label: row for row in summary.rows}
    assert [row.label for row in summary.rows[:4]] == ["mAP", "mAP (IoU3D)", "NDS", "AMOTA"]
    assert rows["person AP @ 0.5 m"].section == "Per class"
    assert rows["person translation error"].value == pytest.approx(0.31)
    assert rows["mATE"].section == "Errors"
    assert rows["IDS"].section == "Tracking" and rows["IDS"].text == "12"
    assert rows["FP"].text == "30"
    assert rows["HOTA"].section == "HOTA" and rows["HOTA"].text == "55.5000"
    assert rows["HOTA (IoU3D)"].value == pytest.approx(41.0)
    assert rows["mAP (IoU3D)"].section == "Summary"
    assert rows["epoch"].section == "Other"


def test_nested_under_a_prefix_and_tracking_label_metrics() -> None:
    document = {
        "img_bbox_NuScenes": {
            "amota": 0.7,
            "label_metrics": {"amota": {"person": 0.8, "transporter": float("nan")}},
            "meta": {"use_camera": True},
        }
    }
    summary = parse_metrics_summary(json.dumps(document), "m.json")
    assert summary.value("AMOTA") == pytest.approx(0.7)
    assert summary.value("person AMOTA") == pytest.approx(0.8)
    transporter = next(row for row in summary.rows if row.label == "transporter AMOTA")
    assert transporter.text == "n/a"


def test_no_numbers_is_a_warning() -> None:
    summary = parse_metrics_summary('{"cfg": {"a": 1}, "name": "x"}', "m.json")
    assert summary.rows == [] and summary.warnings == ["m.json: no numeric metrics found"]


@pytest.mark.parametrize(
    ("text", "problem"), [('{"mAP": 0.5,\n "NDS": }', "line 2, column 9"), ("[1]", "object")]
)
def test_unreadable_files_are_explained(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "metrics_summary.json"
    path.write_text(text)
    with pytest.raises(MetricsError, match=problem) as caught:
        load_metrics_summary(path)
    assert str(path) in str(caught.value)
