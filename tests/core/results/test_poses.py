"""Pose results from real files in TAO's formats: the bundled sample and hand-made edge cases."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml

from app.core.results.layouts import layout_for
from app.core.results.poses import (
    PoseLabels,
    PoseResults,
    PoseResultsError,
    build_pose_results,
    class_names_from_label_map,
    load_label_map,
    load_labels,
    load_pose_data,
    load_pose_results,
)

Truth = tuple[list[str], list[int], list[str], list[str]]
CLASSES = ["sitting_down", "getting_up", "sitting", "standing", "walking", "jumping"]


@pytest.fixture(scope="module")
def pose_dir(samples_dir: Path) -> Path:
    return samples_dir / "pose"


@pytest.fixture(scope="module")
def sample_truth(pose_dir: Path) -> Truth:
    """The sample read with the standard tools (the test's own trusted files), for comparison."""
    with (pose_dir / "test_label.pkl").open("rb") as stream:
        names, labels = pickle.load(stream)
    predictions = (pose_dir / "results.txt").read_text().split()
    label_map = yaml.safe_load((pose_dir / "label_map.yaml").read_text())
    classes = sorted(label_map, key=label_map.get)
    return names, list(labels), predictions, classes


def _load_sample(pose_dir: Path) -> PoseResults:
    return load_pose_results(
        pose_dir / "results.txt",
        pose_dir / "label_map.yaml",
        pose_dir / "test_label.pkl",
        pose_dir / "test_data.npy",
        layout_for("nvidia"),
    )


def test_the_sample_statistics_match_a_plain_count(pose_dir: Path, sample_truth: Truth) -> None:
    names, labels, predictions, classes = sample_truth
    results = _load_sample(pose_dir)
    assert results.sample_names == names
    assert results.class_names == classes
    expected = np.zeros((len(classes), len(classes)), dtype=int)
    for label, predicted in zip(labels, predictions, strict=True):
        expected[label, classes.index(predicted)] += 1
    np.testing.assert_array_equal(results.confusion_matrix(), expected)
    correct = sum(classes[label] == predicted for label, predicted in zip(labels, predictions, strict=True))
    assert results.top1_accuracy() == pytest.approx(correct / len(labels))
    per_class = [expected[k, k] / expected[k].sum() for k in range(len(classes))]
    np.testing.assert_allclose(results.per_class_accuracy(), per_class)
    assert results.mean_class_accuracy() == pytest.approx(np.mean(per_class))
    np.testing.assert_allclose(results.confusion_matrix(normalize=True).sum(axis=1), 1.0)


def test_filters_return_matching_sequence_indices(pose_dir: Path, sample_truth: Truth) -> None:
    _, labels, predictions, classes = sample_truth
    results = _load_sample(pose_dir)
    wrong_walking = [
        i
        for i, (label, p) in enumerate(zip(labels, predictions, strict=True))
        if label == 4 and p != "walking"
    ]
    assert results.filter_indices(true_class="walking", correct=False).tolist() == wrong_walking
    predicted_sitting = [i for i, p in enumerate(predictions) if p == "sitting"]
    assert results.filter_indices(predicted_class=classes.index("sitting")).tolist() == predicted_sitting
    assert len(results.filter_indices(correct=True)) + len(results.filter_indices(correct=False)) == len(
        labels
    )
    with pytest.raises(ValueError, match="unknown class 'dancing'"):
        results.filter_indices(true_class="dancing")


def test_the_sample_data_is_memory_mapped_and_checked(pose_dir: Path) -> None:
    data = load_pose_data(pose_dir / "test_data.npy")
    assert isinstance(data, np.memmap)
    assert data.dtype == np.float32 and data.ndim == 5 and data.shape[3] == 34
    results = _load_sample(pose_dir)
    sequence = results.sequence(3)
    assert sequence.shape == data.shape[1:]
    np.testing.assert_array_equal(sequence[:, :, 0, 0], 0.0)  # joint 0 (root) is the origin


def test_frames_used_ignores_zero_padding(tmp_path: Path) -> None:
    data = np.zeros((2, 3, 10, 34, 1), dtype=np.float32)
    data[0, :, :7] = 1.0
    data[1] = 1.0
    np.save(tmp_path / "data.npy", data)
    results = build_pose_results(CLASSES, ["walking", "sitting"], data=load_pose_data(tmp_path / "data.npy"))
    assert [results.frames_used(0), results.frames_used(1)] == [7, 10]


def test_a_layout_with_another_joint_count_is_explained(pose_dir: Path) -> None:
    with pytest.raises(PoseResultsError, match=r"V=34 joints.*'openpose' has 18"):
        load_pose_results(
            pose_dir / "results.txt",
            pose_dir / "label_map.yaml",
            data_path=pose_dir / "test_data.npy",
            layout=layout_for("openpose"),
        )


@pytest.mark.parametrize(
    ("array", "problem"),
    [
        (np.zeros((2, 3, 4, 34), dtype=np.float32), "expected 5 dimensions"),
        (np.zeros((2, 3, 4, 34, 1), dtype=np.int64), "dtype int64"),
    ],
)
def test_wrong_arrays_are_explained(tmp_path: Path, array: np.ndarray, problem: str) -> None:
    path = tmp_path / "val_data.npy"
    np.save(path, array)
    with pytest.raises(PoseResultsError, match=problem) as caught:
        load_pose_data(path)
    assert str(path) in str(caught.value)


def test_a_file_that_is_not_npy_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "val_data.npy"
    path.write_text("not numpy")
    with pytest.raises(PoseResultsError, match="not a readable numpy"):
        load_pose_data(path)


def test_line_count_mismatch_names_both_files(tmp_path: Path, pose_dir: Path) -> None:
    lines = (pose_dir / "results.txt").read_text().splitlines()[:-3]
    short = tmp_path / "results.txt"
    short.write_text("\n".join(lines) + "\n\n")
    with pytest.raises(PoseResultsError) as caught:
        load_pose_results(short, pose_dir / "label_map.yaml", data_path=pose_dir / "test_data.npy")
    message = str(caught.value)
    assert str(short) in message and "test_data.npy" in message and f"{len(lines)} lines" in message


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_label_pickles_load_with_the_restricted_unpickler(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "val_label.pkl"
    with path.open("wb") as stream:
        pickle.dump((["a", "b", "c"], np.array([2, 0, 1])), stream, protocol=protocol)
    labels = load_labels(path)
    assert labels.sample_names == ["a", "b", "c"]
    assert labels.labels.tolist() == [2, 0, 1]


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("true",))


def test_a_malicious_label_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "val_label.pkl"
    path.write_bytes(pickle.dumps((["a"], [_Payload()])))
    with pytest.raises(PoseResultsError, match="refused"):
        load_labels(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"names": ["a"], "labels": [0]}, "pair"),
        ((["a", "b"], [0]), "2 sample names but 1 labels"),
        ((["a"], [0.5]), "integers"),
    ],
)
def test_malformed_label_pickles_are_explained(tmp_path: Path, content: object, problem: str) -> None:
    path = tmp_path / "val_label.pkl"
    path.write_bytes(pickle.dumps(content))
    with pytest.raises(PoseResultsError, match=problem):
        load_labels(path)


def test_label_maps_come_from_a_mapping_a_spec_or_a_dict(tmp_path: Path) -> None:
    mapping = {name: index for index, name in enumerate(CLASSES)}
    plain = tmp_path / "label_map.yaml"
    plain.write_text(yaml.safe_dump(mapping))
    spec = tmp_path / "experiment.yaml"
    spec.write_text(yaml.safe_dump({"model": {"graph_layout": "nvidia"}, "dataset": {"label_map": mapping}}))
    assert class_names_from_label_map(plain) == CLASSES
    assert class_names_from_label_map(spec) == CLASSES
    assert class_names_from_label_map(dict(reversed(list(mapping.items())))) == CLASSES


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("walking: 0\nsitting: 2\n", r"0\.\.1 with no gaps"),
        ("walking: zero\n", "integer index"),
        ("walking: [0\n", "line 2"),
        ("- walking\n", "mapping"),
    ],
)
def test_bad_label_maps_are_explained(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "label_map.yaml"
    path.write_text(text)
    with pytest.raises(PoseResultsError, match=problem) as caught:
        load_label_map(path)
    assert str(path) in str(caught.value)


def test_unknown_predictions_and_labels_become_warnings() -> None:
    labels = PoseLabels(["a", "b", "c", "d"], np.array([0, 1, 9, 1]))
    results = build_pose_results(CLASSES[:2], ["sitting_down", "flying", "getting_up", "getting_up"], labels)
    assert results.predicted_labels.tolist() == [0, -1, 1, 1]
    assert any("flying" in warning for warning in results.warnings)
    assert any("outside 0..1" in warning for warning in results.warnings)
    assert results.confusion_matrix().sum() == 2  # 'flying' and label 9 left out
    assert results.top1_accuracy() == pytest.approx(2 / 3)


def test_statistics_need_true_labels() -> None:
    results = build_pose_results(CLASSES, ["walking"])
    assert results.filter_indices(predicted_class="walking").tolist() == [0]
    with pytest.raises(ValueError, match="no true labels"):
        results.confusion_matrix()
