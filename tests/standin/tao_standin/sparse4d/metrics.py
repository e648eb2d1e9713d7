"""nuScenes-style detection metrics (center-distance AP, TP errors, NDS) on predictions vs the infos' GT."""

from __future__ import annotations

from typing import Any

import numpy as np

from .infos import labelled_boxes

DIST_THRESHOLDS = (0.5, 1.0, 2.0, 4.0)
TP_THRESHOLD = 2.0
MIN_RECALL = 0.1
MIN_PRECISION = 0.1
MEAN_AP_WEIGHT = 5
TP_ERRORS = ("trans_err", "scale_err", "orient_err", "vel_err", "attr_err")
SHORT_NAMES = {
    "trans_err": "mATE",
    "scale_err": "mASE",
    "orient_err": "mAOE",
    "vel_err": "mAVE",
    "attr_err": "mAAE",
}
PREFIX = "img_bbox_NuScenes/"


def _yaw(rotation: list[float]) -> float:
    return float(2 * np.arctan2(rotation[3], rotation[0]))


def _angle_difference(first: float, second: float) -> float:
    difference = (first - second + np.pi) % (2 * np.pi) - np.pi
    return abs(float(difference))


def _scale_error(first: np.ndarray, second: np.ndarray) -> float:
    intersection = np.prod(np.minimum(first, second))
    union = np.prod(first) + np.prod(second) - intersection
    return float(1 - intersection / union)


def _ground_truth(infos: list[dict[str, Any]], classes: list[str]) -> dict[str, list[dict[str, Any]]]:
    truth: dict[str, list[dict[str, Any]]] = {}
    for info in infos:
        boxes, labels, rows = labelled_boxes(info, classes)
        velocity = np.asarray(info.get("gt_velocity", np.zeros((len(rows), 3)))).reshape(-1, 3)
        truth[str(info["token"])] = [
            {
                "name": classes[int(labels[i])],
                "centre": boxes[i, :3],
                "size": boxes[i, [4, 3, 5]],
                "yaw": float(boxes[i, 6]),
                "velocity": velocity[rows[i], :2] if len(velocity) > rows[i] else np.zeros(2),
            }
            for i in range(len(boxes))
        ]
    return truth


def _average_precision(precision: np.ndarray) -> float:
    kept = precision[round(100 * MIN_RECALL) + 1 :] - MIN_PRECISION
    return float(max(0.0, np.clip(kept, 0, None).mean() / (1 - MIN_PRECISION)))


def _class_metrics(
    name: str,
    predictions: list[tuple[str, dict[str, Any]]],
    truth: dict[str, list[dict[str, Any]]],
    threshold: float,
) -> tuple[float, dict[str, list[float]]]:
    gt_count = sum(1 for boxes in truth.values() for box in boxes if box["name"] == name)
    ranked = sorted(
        (item for item in predictions if item[1]["detection_name"] == name),
        key=lambda item: -item[1]["detection_score"],
    )
    taken: set[tuple[str, int]] = set()
    hits = np.zeros(len(ranked))
    errors: dict[str, list[float]] = {key: [] for key in TP_ERRORS}
    for rank, (token, box) in enumerate(ranked):
        best, best_distance = -1, np.inf
        for index, candidate in enumerate(truth.get(token, [])):
            if candidate["name"] != name or (token, index) in taken:
                continue
            distance = float(np.linalg.norm(candidate["centre"][:2] - np.asarray(box["translation"][:2])))
            if distance < best_distance:
                best, best_distance = index, distance
        if best < 0 or best_distance >= threshold:
            continue
        taken.add((token, best))
        hits[rank] = 1
        matched = truth[token][best]
        errors["trans_err"].append(best_distance)
        errors["scale_err"].append(_scale_error(matched["size"], np.asarray(box["size"])))
        errors["orient_err"].append(_angle_difference(matched["yaw"], _yaw(box["rotation"])))
        errors["vel_err"].append(float(np.linalg.norm(matched["velocity"] - np.asarray(box["velocity"]))))
        errors["attr_err"].append(0.0)
    if gt_count == 0 or not len(ranked):
        return 0.0, errors
    true_positives = np.cumsum(hits)
    precision = true_positives / np.arange(1, len(ranked) + 1)
    recall = true_positives / gt_count
    grid = np.linspace(0, 1, 101)
    interpolated = np.array(
        [precision[recall >= level].max() if (recall >= level).any() else 0.0 for level in grid]
    )
    return _average_precision(interpolated), errors


def evaluate_detection(
    results: dict[str, Any], infos: list[dict[str, Any]], classes: list[str]
) -> dict[str, Any]:
    """Flat metrics with TAO's `img_bbox_NuScenes/` keys and the nuScenes metrics_summary document."""
    truth = _ground_truth(infos, classes)
    predictions = [(token, box) for token, boxes in results["results"].items() for box in boxes]
    present = [
        name for name in classes if any(box["name"] == name for boxes in truth.values() for box in boxes)
    ]
    label_aps: dict[str, dict[str, float]] = {}
    label_tp: dict[str, dict[str, float]] = {}
    flat: dict[str, float] = {}
    for name in present:
        label_aps[name] = {}
        for threshold in DIST_THRESHOLDS:
            ap, errors = _class_metrics(name, predictions, truth, threshold)
            label_aps[name][str(threshold)] = ap
            flat[f"{PREFIX}{name}_AP_dist_{threshold}"] = ap
            if threshold == TP_THRESHOLD:
                label_tp[name] = {
                    key: float(np.mean(values)) if values else 1.0 for key, values in errors.items()
                }
        for key, value in label_tp[name].items():
            flat[f"{PREFIX}{name}_{key}"] = value
    mean_dist_aps = {name: float(np.mean(list(aps.values()))) for name, aps in label_aps.items()}
    mean_ap = float(np.mean(list(mean_dist_aps.values()))) if mean_dist_aps else 0.0
    tp_errors = {
        key: float(np.mean([label_tp[name][key] for name in present])) if present else 1.0
        for key in TP_ERRORS
    }
    tp_scores = {key: max(0.0, 1.0 - value) for key, value in tp_errors.items()}
    nd_score = (MEAN_AP_WEIGHT * mean_ap + sum(tp_scores.values())) / (MEAN_AP_WEIGHT + len(TP_ERRORS))
    for key, value in tp_errors.items():
        flat[f"{PREFIX}{SHORT_NAMES[key]}"] = value
    flat[f"{PREFIX}NDS"] = nd_score
    flat[f"{PREFIX}mAP"] = mean_ap
    summary = {
        "label_aps": label_aps,
        "mean_dist_aps": mean_dist_aps,
        "mean_ap": mean_ap,
        "label_tp_errors": label_tp,
        "tp_errors": tp_errors,
        "tp_scores": tp_scores,
        "nd_score": nd_score,
        "mAP": mean_ap,
        "NDS": nd_score,
        "cfg": {
            "dist_fcn": "center_distance",
            "dist_ths": list(DIST_THRESHOLDS),
            "dist_th_tp": TP_THRESHOLD,
            "min_recall": MIN_RECALL,
            "min_precision": MIN_PRECISION,
            "mean_ap_weight": MEAN_AP_WEIGHT,
            "class_names": present,
        },
    }
    return {"flat": flat, "summary": summary}
