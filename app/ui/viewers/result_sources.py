"""Which files make up a result to view: from a finished job's spec, from files the user picked or
dropped, or from the bundled samples. Qt-free.

Where TAO writes (TAO_FACTS 1.6, 2.7): pose inference writes ``inference.output_file`` (the app sets
``<results_dir>/inference/results.txt``); Sparse4D writes ``<inference.jsonfile_prefix>/img_bbox/
results_nusc.json``, a relative prefix being relative to the container's working folder, which is the
job's results folder.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app import paths
from app.core.jobs.model import Job
from app.ui.viewers.result_files import FileAccess, ResultFileError

FALLBACK_SCORE_THRESHOLD = 0.25
SPARSE4D_SKILL = "tao-train-sparse4d"


@dataclass
class TrackSource:
    """The files of a Sparse4D result: boxes, and optionally infos, metrics and image folders."""

    results: str
    infos: list[str] = field(default_factory=list)
    metrics: str | None = None
    image_roots: list[str] = field(default_factory=list)
    score_threshold: float | None = None
    title: str = "Tracks"


@dataclass
class PoseSource:
    """The files of a pose classification result."""

    predictions: str
    data: str | None = None
    labels: str | None = None
    label_map: str | dict[str, int] | None = None
    layout: str | None = None
    title: str = "Poses"


ResultSource = TrackSource | PoseSource


def default_score_threshold() -> float:
    """``visualize.vis_score_threshold`` of the bundled Sparse4D inference template (TAO's default)."""
    template = paths.bundled_bank_dir() / SPARSE4D_SKILL / "references" / "spec_template_inference.yaml"
    try:
        document = yaml.safe_load(template.read_text(encoding="utf-8"))
        value = spec_value(document, "visualize.vis_score_threshold")
        return float(value) if isinstance(value, int | float) else FALLBACK_SCORE_THRESHOLD
    except (OSError, yaml.YAMLError):
        return FALLBACK_SCORE_THRESHOLD


def spec_value(document: Any, dotted: str) -> Any:
    """The value at a dotted key of a nested spec, or None."""
    node = document
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() and value != "???" else None


# -- samples -----------------------------------------------------------------------------------


def sample_track_source() -> TrackSource:
    """The bundled Sparse4D sample (results, infos with four cameras and ground truth, metrics)."""
    folder = paths.resources_dir() / "samples" / "sparse4d"
    return TrackSource(
        results=str(folder / "results_nusc.json"),
        infos=[str(path) for path in sorted(folder.glob("*_infos_*.pkl"))],
        metrics=str(folder / "metrics_summary.json"),
        image_roots=[str(folder)],
        title="Sample: Sparse4D tracks",
    )


def sample_pose_source() -> PoseSource:
    """The bundled pose classification sample (nvidia layout)."""
    folder = paths.resources_dir() / "samples" / "pose"
    return PoseSource(
        predictions=str(folder / "results.txt"),
        data=str(folder / "test_data.npy"),
        labels=str(folder / "test_label.pkl"),
        label_map=str(folder / "label_map.yaml"),
        layout="nvidia",
        title="Sample: pose classification",
    )


# -- files chosen by the user ------------------------------------------------------------------


def source_from_files(names: list[str]) -> ResultSource:
    """Work out what a set of opened or dropped local files is (ValueError with advice if unclear)."""
    by_suffix: dict[str, list[str]] = {}
    for name in names:
        by_suffix.setdefault(Path(name).suffix.lower(), []).append(name)
    jsons = by_suffix.get(".json", [])
    pickles = by_suffix.get(".pkl", []) + by_suffix.get(".pickle", [])
    if by_suffix.get(".npy") or by_suffix.get(".txt"):
        return _pose_source_from_files(by_suffix, pickles)
    metrics = [name for name in jsons if Path(name).name.startswith("metrics_summary")]
    results = [name for name in jsons if name not in metrics]
    if len(results) == 1:
        folder = Path(results[0]).parent
        sibling = folder / "metrics_summary.json"
        metric = metrics[0] if metrics else (str(sibling) if sibling.is_file() else None)
        roots = list(dict.fromkeys([str(Path(p).parent) for p in pickles] + [str(folder)]))
        return TrackSource(
            results[0], infos=pickles, metrics=metric, image_roots=roots, title=Path(results[0]).name
        )
    raise ValueError(
        "Open a Sparse4D results_nusc.json (with its converted infos .pkl for ground truth and cameras), "
        "or a pose .npy with its inference output .txt (and its label .pkl and label map .yaml)."
    )


def _pose_source_from_files(by_suffix: dict[str, list[str]], pickles: list[str]) -> PoseSource:
    texts = by_suffix.get(".txt", [])
    data = by_suffix.get(".npy", [])
    maps = by_suffix.get(".yaml", []) + by_suffix.get(".yml", [])
    if len(texts) != 1:
        raise ValueError(
            "Pose results need exactly one inference output .txt (one predicted class per line)."
        )
    if len(data) > 1:
        raise ValueError("Open one pose .npy at a time (with its inference output .txt).")
    label_map: str | None = maps[0] if maps else None
    if label_map is None:
        for folder in {Path(texts[0]).parent, *(Path(d).parent for d in data)}:
            if (folder / "label_map.yaml").is_file():
                label_map = str(folder / "label_map.yaml")
                break
    return PoseSource(
        predictions=texts[0],
        data=data[0] if data else None,
        labels=pickles[0] if pickles else None,
        label_map=label_map,
        title=Path(data[0]).name if data else Path(texts[0]).name,
    )


# -- a job's outputs ---------------------------------------------------------------------------


def source_for_job(job: Job, files: FileAccess) -> ResultSource:
    """The result files of a finished job, read from its spec (ResultFileError if there are none)."""
    try:
        spec = yaml.safe_load(job.spec_yaml) or {}
    except yaml.YAMLError as exc:
        raise ResultFileError(f"job {job.id}: its spec is not readable YAML ({exc})") from exc
    if not isinstance(spec, dict):
        spec = {}
    results_dir = _text(spec_value(spec, "results_dir")) or job.results_dir
    if "sparse4d" in job.skill:
        return _job_track_source(job, spec, results_dir, files)
    if "pose" in job.skill:
        return _job_pose_source(job, spec, results_dir, files)
    raise ResultFileError(f"job {job.id}: there is no results viewer for {job.skill}")


def _absolute(path: str, base: str) -> str:
    return path if posixpath.isabs(path) else posixpath.normpath(posixpath.join(base, path))


def _missing(job: Job, files: FileAccess, what: str, looked: list[str]) -> ResultFileError:
    places = "; ".join(dict.fromkeys(looked))
    return ResultFileError(
        f"job {job.id} ({job.action}, {job.status.value}): no {what} on {files.where} yet "
        f"(looked for {places})"
    )


def _job_track_source(job: Job, spec: dict[str, Any], results_dir: str, files: FileAccess) -> TrackSource:
    prefixes = [
        _text(spec_value(spec, f"{job.action}.jsonfile_prefix")),
        _text(spec_value(spec, "inference.jsonfile_prefix")),
    ]
    candidates = [
        posixpath.join(_absolute(prefix, results_dir), "img_bbox", "results_nusc.json")
        for prefix in prefixes
        if prefix
    ]
    candidates += [
        posixpath.join(results_dir, job.action, "img_bbox", "results_nusc.json"),
        posixpath.join(results_dir, job.action, "sparse4d_pred", "img_bbox", "results_nusc.json"),
    ]
    results = next((path for path in candidates if files.is_file(path)), None)
    if results is None:
        raise _missing(job, files, "results_nusc.json", candidates)
    infos: list[str] = []
    ann_file = _text(spec_value(spec, "dataset.test_dataset.ann_file"))
    if ann_file:
        ann_path = _absolute(ann_file, results_dir)
        if files.is_dir(ann_path):
            infos = [
                posixpath.join(ann_path, name) for name in files.list_names(ann_path) if name.endswith(".pkl")
            ]
        elif files.is_file(ann_path):
            infos = [ann_path]
    metrics = posixpath.join(posixpath.dirname(results), "metrics_summary.json")
    data_root = _text(spec_value(spec, "dataset.data_root"))
    roots = [root for root in [data_root, *(posixpath.dirname(path) for path in infos)] if root]
    threshold = spec_value(spec, "visualize.vis_score_threshold")
    return TrackSource(
        results=results,
        infos=infos,
        metrics=metrics if files.is_file(metrics) else None,
        image_roots=list(dict.fromkeys(roots)),
        score_threshold=float(threshold) if isinstance(threshold, int | float) else None,
        title=f"{job.action} · {job.id}",
    )


def _job_pose_source(job: Job, spec: dict[str, Any], results_dir: str, files: FileAccess) -> PoseSource:
    output = _text(spec_value(spec, "inference.output_file"))
    candidates = ([_absolute(output, results_dir)] if output else []) + [
        posixpath.join(results_dir, "inference", "results.txt")
    ]
    predictions = next((path for path in candidates if files.is_file(path)), None)
    if predictions is None:
        raise _missing(job, files, "inference output", candidates)
    data = _text(spec_value(spec, "inference.test_dataset.data_path"))
    labels = _text(spec_value(spec, "inference.test_dataset.label_path"))
    label_map = spec_value(spec, "dataset.label_map")
    layout = _text(spec_value(spec, "model.graph_layout"))
    return PoseSource(
        predictions=predictions,
        data=data if data and files.is_file(data) else None,
        labels=labels if labels and files.is_file(labels) else None,
        label_map=label_map if isinstance(label_map, dict) and label_map else None,
        layout=layout,
        title=f"{job.action} · {job.id}",
    )


def display_name(path: str) -> str:
    """The file name of a local or host path, for captions."""
    return os.path.basename(path.rstrip("/")) or path
