"""The bundled samples: reproducible from the script, small, and usable by both viewers' readers."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from types import ModuleType

import pytest

from app.core.results.infos import load_infos
from app.core.results.layouts import layout_for
from app.core.results.matching import match_results
from app.core.results.poses import load_pose_results
from app.core.results.tracks import load_tracks


def _png_pixels(data: bytes) -> tuple[tuple[int, int, int, int], bytes]:
    """(width, height, bit depth, colour type) and the inflated image data; checks every chunk CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, header, pixels = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            pixels += body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    return (width, height, depth, colour), zlib.decompress(pixels)


@pytest.fixture(scope="module")
def regenerated(make_samples: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    make_samples.write_samples(out)
    return out


def test_the_bundled_samples_are_what_the_script_makes(samples_dir: Path, regenerated: Path) -> None:
    bundled = sorted(path.relative_to(samples_dir) for path in samples_dir.rglob("*") if path.is_file())
    made = sorted(path.relative_to(regenerated) for path in regenerated.rglob("*") if path.is_file())
    assert bundled == made
    for relative in bundled:
        old, new = (samples_dir / relative).read_bytes(), (regenerated / relative).read_bytes()
        if relative.suffix == ".png":
            assert _png_pixels(old) == _png_pixels(new), relative
        else:
            assert old == new, relative


def test_the_samples_are_small(samples_dir: Path) -> None:
    total = sum(path.stat().st_size for path in samples_dir.rglob("*") if path.is_file())
    assert total < 2.2e6


def test_the_camera_images_are_valid_small_pngs(samples_dir: Path) -> None:
    images = sorted((samples_dir / "sparse4d" / "images").rglob("*.png"))
    assert len(images) == 4 * 60
    (width, height, depth, colour), pixels = _png_pixels(images[0].read_bytes())
    assert (width, height, depth, colour) == (320, 180, 4, 3)
    assert len(pixels) == height * (1 + width // 2)


def test_the_sparse4d_sample_has_what_the_viewer_shows(samples_dir: Path, sample_infos_path: Path) -> None:
    infos = load_infos(sample_infos_path)
    tracks = load_tracks(samples_dir / "sparse4d" / "results_nusc.json", infos=infos)
    assert len({frame.scene_name for frame in infos.frames}) == 1
    assert len(infos.camera_names) == 4 and len(infos.frames) == 60
    assert all(frame.has_ground_truth for frame in infos.frames)
    long_tracks = (tracks.track_lengths() >= 20).sum()
    assert long_tracks >= 8
    assert tracks.velocities[:, :2].std() > 0.3  # things move
    totals = match_results(tracks, infos).totals()
    assert totals["idsw"] >= 2 and totals["fp"] >= 2


def test_the_pose_sample_is_about_eighty_percent_right(samples_dir: Path) -> None:
    pose = samples_dir / "pose"
    results = load_pose_results(
        pose / "results.txt",
        pose / "label_map.yaml",
        pose / "test_label.pkl",
        pose / "test_data.npy",
        layout_for("nvidia"),
    )
    assert results.num_sequences >= 60 and results.num_classes == 6
    assert 0.7 <= results.top1_accuracy() <= 0.9
    assert results.data is not None and results.data.shape[1:] == (3, results.data.shape[2], 34, 1)
    assert results.data.std() > 0.05  # skeletons are not empty
