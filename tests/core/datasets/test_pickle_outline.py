"""Outline loading of large pickles: the same refusals as the safe loader, arrays as shape and dtype."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from app.core.datasets.pickle_outline import ArrayOutline, load_pickle_outline
from app.core.datasets.safe_pickle import PickleLoadError, PickleRefused, PickleTooLarge
from tests.infra.preflight_data import hostile_pickle


def test_arrays_stay_outlines_with_shape_dtype_and_the_same_data_on_request() -> None:
    matrix = np.arange(16, dtype=np.float64).reshape(4, 4)
    names = np.array(["Person", "Transporter"])
    frames = [
        {"m": matrix, "names": names.copy(), "t": ("a", "b")},
        {"m": matrix.T.copy(), "names": names[:1]},
    ]
    data = pickle.dumps({"infos": frames, "metadata": {}}, protocol=4)
    loaded = load_pickle_outline(data, "infos.pkl", max_bytes=len(data))
    first, second = loaded["infos"]
    assert isinstance(first["m"], ArrayOutline)
    assert first["m"].shape == (4, 4) and first["m"].dtype == np.float64
    assert np.array_equal(first["m"].array(), matrix)
    assert np.array_equal(second["m"].array(), matrix.T)
    assert list(first["names"].array()) == ["Person", "Transporter"]
    assert first["names"].data_key() != second["names"].data_key()
    assert (
        first["names"].data_key()
        == load_pickle_outline(data, "again", max_bytes=len(data))["infos"][0]["names"].data_key()
    )
    assert first["t"] == ("a", "b")


def test_a_pickle_asking_for_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = hostile_pickle(tmp_path / "labels.pkl", marker).read_bytes()
    with pytest.raises(PickleRefused, match=r"asks for (posix|os)\.system") as refused:
        load_pickle_outline(data, "labels.pkl", max_bytes=len(data))
    assert refused.value.requested in ("posix.system", "os.system")
    assert not marker.exists()
    assert not os.path.exists(marker)


def test_limits_and_corrupt_files() -> None:
    data = pickle.dumps(list(range(1000)), protocol=4)
    with pytest.raises(PickleTooLarge, match="limit for pickles"):
        load_pickle_outline(data, "big.pkl", max_bytes=100)
    with pytest.raises(PickleTooLarge):
        load_pickle_outline(data[:10], "big.pkl", max_bytes=100, size=10**9)
    with pytest.raises(PickleLoadError, match="not a readable pickle"):
        load_pickle_outline(data[: len(data) // 2], "cut.pkl", max_bytes=len(data))
    memo_bomb = b"\x80\x02K\x01r\xff\xff\xff\x7f."
    with pytest.raises(PickleLoadError, match="memo index"):
        load_pickle_outline(memo_bomb, "bomb.pkl", max_bytes=1000)
