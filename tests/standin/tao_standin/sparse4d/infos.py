"""Converted OVPKL infos: loading the `ann_file` forms TAO accepts, class labels and depth maps."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError

MAX_DEPTH = 50.0


def ann_files(ann_file: str, key: str) -> list[Path]:
    """A single .pkl, a folder of .pkl files, or a .txt listing .pkl paths."""
    if not ann_file or ann_file == "???":
        raise ConfigError(f"Missing mandatory value: {key}")
    path = Path(ann_file)
    if path.is_dir():
        files = sorted(path.glob("*.pkl"))
        if not files:
            raise FileNotFoundError(f"{key} folder {path} holds no .pkl files")
        return files
    if not path.is_file():
        raise FileNotFoundError(f"{key} {path} does not exist")
    if path.suffix == ".txt":
        return [Path(line.strip()) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [path]


def load_infos(ann_file: str, key: str) -> list[dict[str, Any]]:
    """All infos of the listed pickles, sorted by (scene_name, timestamp) as TAO's dataset does."""
    infos: list[dict[str, Any]] = []
    for path in ann_files(ann_file, key):
        with open(path, "rb") as stream:
            content = pickle.load(stream)
        items = content["infos"] if isinstance(content, dict) else content
        if not isinstance(items, list):
            raise ValueError(f"{path} holds neither a dict with 'infos' nor a list of infos")
        infos.extend(items)
    if not infos:
        raise ValueError(f"{key} {ann_file} holds no frames")
    return sorted(
        infos, key=lambda info: (str(info.get("scene_name", "")), float(info.get("timestamp", 0.0)))
    )


def gt_labels(info: dict[str, Any], classes: list[str]) -> np.ndarray:
    """Class index per ground-truth box; names not in dataset.classes get -1 (TAO's get_ann_info)."""
    names = info.get("gt_names", [])
    return np.asarray(
        [classes.index(str(name)) if str(name) in classes else -1 for name in names], dtype=np.int64
    )


def labelled_boxes(info: dict[str, Any], classes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (n, 7), labels (n,) and row indices of the boxes whose class is in dataset.classes."""
    boxes = np.asarray(info.get("gt_boxes", np.zeros((0, 7))), dtype=np.float64).reshape(-1, 7)
    labels = gt_labels(info, classes)
    valid = np.asarray(info.get("valid_flag", np.ones(len(boxes), dtype=bool)), dtype=bool)
    keep = np.flatnonzero((labels >= 0) & valid)
    return boxes[keep], labels[keep], keep


class DepthReader:
    """Opens depth maps as TAO's LoadDepthMap does: `h5py.File(data_root/t[0])[t[1]]`, mm -> m, clipped."""

    def __init__(self, data_root: str) -> None:
        import h5py

        self._h5py = h5py
        self._root = Path(data_root)
        self._files: dict[Path, Any] = {}

    def mean_depth(self, depth_map_path: Any) -> float:
        """Mean depth in metres of one camera's map for one frame."""
        if isinstance(depth_map_path, tuple | list):
            path = self._root / str(depth_map_path[0])
            if path not in self._files:
                if not path.is_file():
                    raise FileNotFoundError(f"depth map {path} does not exist (check dataset.data_root)")
                self._files[path] = self._h5py.File(path, "r")
            array = np.asarray(self._files[path][str(depth_map_path[1])], dtype=np.float64)
        else:
            raise NotImplementedError(
                f"depth maps as image files ({depth_map_path}) are not read by the stand-in"
            )
        return float(np.clip(array / 1000.0, 0.1, MAX_DEPTH).mean())

    def close(self) -> None:
        """Close the open HDF5 files."""
        for store in self._files.values():
            store.close()
        self._files.clear()
