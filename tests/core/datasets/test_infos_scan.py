"""The one-pass summary of converted infos, read through the outline loader as preflight reads them."""

from __future__ import annotations

import pickle
from collections import Counter
from typing import Any

import numpy as np

from app.core.datasets.infos_scan import scan_infos
from app.core.datasets.pickle_outline import load_pickle_outline

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]


def _camera(intrinsic: Any = None) -> dict[str, Any]:
    return {
        "cam_intrinsic": np.eye(3) if intrinsic is None else intrinsic,
        "sensor2world_transform": np.eye(4),
        "depth_map_path": ("Warehouse_000/depth_maps/Camera_0000.h5", "distance_00000.png"),
    }


def _summary(frames: list[dict[str, Any]], protocol: int = 4) -> Any:
    data = pickle.dumps({"metadata": {}, "infos": frames}, protocol=protocol)
    return scan_infos(load_pickle_outline(data, "infos.pkl", max_bytes=len(data)), "infos.pkl")


def test_class_counts_add_up_every_box_and_keep_the_order_names_first_appear_in() -> None:
    name_lists = [
        ["Person", "Person", "Transporter"],
        ["Person", "Person", "Transporter"],
        ["Forklift"],
        ["Person", "Person", "Transporter"],
        ["Box", "Person"],
    ]
    frames: list[dict[str, Any]] = [
        {"scene_name": "s", "cams": {"Camera_0000": _camera()}, "gt_names": np.array(names)}
        for names in name_lists
    ]
    frames.append({"scene_name": "s", "cams": {}, "gt_names": np.array(["Pallet", "Box"], dtype=object)})
    frames.append({"scene_name": "s", "cams": {}, "gt_names": ["Person"]})
    everything = [name for names in name_lists for name in names] + ["Pallet", "Box", "Person"]
    summary = _summary(frames)
    assert summary.class_counts == Counter(everything)
    assert list(summary.class_counts) == list(dict.fromkeys(everything))
    assert summary.frames == summary.frames_with_ground_truth == len(frames)


class _ForgedArray:
    """Pickles as a numpy array whose stated shape holds an array instead of a whole number."""

    def __reduce__(self) -> tuple[Any, ...]:
        state = (1, (np.arange(3), 3), np.dtype("f8"), False, bytes(72))
        return _reconstruct, (np.ndarray, (0,), b"b"), state


def test_a_shape_that_holds_an_array_makes_a_bad_camera_not_a_crash() -> None:
    frames = [{"scene_name": "s", "cams": {"Camera_0000": _camera(), "Camera_0001": _camera(_ForgedArray())}}]
    summary = _summary(frames, protocol=5)  # protocol 5 pickles the inner array as a real ndarray
    assert summary.cameras == 2 and summary.bad_cameras == 1
    assert "camera Camera_0001: cam_intrinsic missing" in summary.bad_camera_examples[0]
