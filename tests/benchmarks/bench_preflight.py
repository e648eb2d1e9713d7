"""Preflight benchmark: a pose train spec over a 2 GB .npy, a Sparse4D train spec over a 200 MB infos pickle.

Targets: <= 2 s locally, <= 5 s over SSH (a private sshd on 127.0.0.1, real SFTP). References measured
in the same run: reading the infos pickle whole (local, SFTP) and loading it fully with the safe loader.

    .venv/bin/python -m tests.benchmarks.bench_preflight [--repeat 3] [--infos-mb 200] [--npy-gb 2]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TAODESK_CONFIG_DIR", tempfile.mkdtemp(prefix="bench-config-"))
os.environ.setdefault("TAODESK_DATA_DIR", tempfile.mkdtemp(prefix="bench-data-"))

import numpy as np

from app.core.datasets.infos_scan import summary_cache
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.datasets.registry import Dataset
from app.core.datasets.safe_pickle import load_pickle_bytes
from app.core.hosts.local import LocalHostSession
from app.core.hosts.session import HostSession
from app.core.hosts.settings import HostConfig
from app.core.jobs.model import Job
from app.core.skills import load_banks
from app.core.specs.service import render_spec

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
CAMERAS = 8
SCENES = 4


def timed(function: Callable[[], Any], repeat: int, cold: bool = True) -> tuple[float, float, Any]:
    """Median wall and CPU time (this process) of ``repeat`` calls, and the last result.

    ``cold`` forgets the remembered infos summaries before each call, so every call reads the files.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        if cold:
            summary_cache.clear()
        started, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def make_pose_data(folder: Path, gigabytes: float) -> tuple[Path, int]:
    """A sparse (N, 3, 300, 34, 1) float32 train array of the given size, small val data, labels."""
    folder.mkdir(parents=True)
    per_sequence = 3 * 300 * 34 * 4
    count = int(gigabytes * 1024**3 // per_sequence)
    array = np.lib.format.open_memmap(
        folder / "train_data.npy", mode="w+", dtype=np.float32, shape=(count, 3, 300, 34, 1)
    )
    del array  # header written, data left as a hole in the file
    np.save(folder / "val_data.npy", np.zeros((64, 3, 300, 34, 1), dtype=np.float32))
    for split, n in (("train", count), ("val", 64)):
        with open(folder / f"{split}_label.pkl", "wb") as stream:
            pickle.dump(
                ([f"{split}_{i:06d}" for i in range(n)], [i % 4 for i in range(n)]), stream, protocol=4
            )
    return folder, count


def _frame(scene: int, frame: int) -> dict[str, Any]:
    name = f"Warehouse_{scene:03d}+bev-sensor-random-0"
    cams = {}
    for camera in range(CAMERAS):
        cams[f"Camera_{camera:04d}"] = {
            "data_path": f"/data/aicity/train/Warehouse_{scene:03d}/Camera_{camera:04d}/rgb/{frame:09d}.jpg",
            "depth_map_path": (
                f"Warehouse_{scene:03d}/depth_maps/Camera_{camera:04d}.h5",
                f"distance_to_image_plane_{frame:05d}.png",
            ),
            "sample_data_token": f"{name}__{frame:09d}+Camera_{camera:04d}",
            "cam_intrinsic": np.array([[1000.0, 0, 960], [0, 1000.0, 540], [0, 0, 1]]),
            "sensor2world_transform": np.eye(4) + frame * 1e-6,
        }
    boxes = 6
    return {
        "frame_idx": frame,
        "scene_name": name,
        "group_name": "bev-sensor-random-0",
        "timestamp": frame / 30,
        "token": f"{name}__{frame:09d}",
        "cams": cams,
        "instance_inds": np.arange(boxes),
        "asset_inds": np.arange(boxes),
        "gt_boxes": np.zeros((boxes, 7)) + frame,
        "gt_names": np.array(["Person"] * 5 + ["Transporter"]),
        "gt_velocity": np.zeros((boxes, 3)),
        "valid_flag": np.ones(boxes, dtype=bool),
        "gt_visibility": [{f"Camera_{c:04d}": 0.5 for c in range(CAMERAS)} for _ in range(boxes)],
    }


def make_sparse4d_data(folder: Path, megabytes: float) -> Path:
    """A convert job's results (one infos pickle of about ``megabytes``, anchors) and its data root."""
    sample = [_frame(index % SCENES, index // SCENES) for index in range(64)]
    per_frame = len(pickle.dumps({"infos": sample}, protocol=4)) / len(sample)
    frames = int(megabytes * MB / per_frame) + 1
    infos = [_frame(index % SCENES, index // SCENES) for index in range(frames)]
    job_dir = folder / "20260101-000000-dataset-convert-bench"
    split = job_dir / "results" / "train"
    split.mkdir(parents=True)
    with open(split / "Warehouse_bench_infos_train.pkl", "wb") as stream:
        pickle.dump(
            {"metadata": {"version": "2025", "split_type": "train"}, "infos": infos}, stream, protocol=4
        )
    np.save(job_dir / "results" / "anchor_init.npy", np.zeros((900, 11), dtype=np.float32))
    for scene in range(SCENES):
        depth = folder / "aicity" / "train" / f"Warehouse_{scene:03d}" / "depth_maps"
        depth.mkdir(parents=True)
        for camera in range(CAMERAS):
            (depth / f"Camera_{camera:04d}.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    return job_dir


def pose_case(session: HostSession, folder: Path, host: str) -> Callable[[], PreflightReport]:
    skill = load_banks([REPO / "skills"]).skill("tao-train-pose-classification")
    spec = render_spec(
        skill,
        "train",
        overrides=[
            "dataset.num_classes=4",
            "dataset.batch_size=16",
            "dataset.label_map={a: 0, b: 1, c: 2, d: 3}",
        ],
    )
    datasets = [Dataset("bench", host, "train", str(folder))]
    return lambda: run_preflight(skill, "train", spec, session, datasets=datasets)


def sparse4d_case(session: HostSession, job_dir: Path, host: str) -> Callable[[], PreflightReport]:
    skill = load_banks([REPO / "skills"]).skill("tao-train-sparse4d")
    spec = render_spec(
        skill, "train", overrides=["dataset.classes=[Person, Transporter]", "dataset.sequences.split_num=4"]
    )
    root = job_dir.parent / "aicity"
    job = Job(
        id=job_dir.name,
        skill=skill.name,
        action="dataset_convert",
        host=host,
        spec_yaml=f"aicity:\n  root: {root}\n  split: train\n",
        job_dir=str(job_dir),
    )
    return lambda: run_preflight(skill, "train", spec, session, parent=job)


def _report(label: str, measured: tuple[float, float, PreflightReport], target: float | None) -> None:
    seconds, cpu, report = measured
    verdict = (
        "" if target is None else f"{'meets' if seconds <= target else 'MISSES'} the {target:g} s target; "
    )
    errors = "; ".join(f.message[:70] for f in report.errors) or "no errors"
    print(f"  {label:<40} {seconds:6.2f} s (CPU here {cpu:5.2f} s)  {verdict}{report.summary()}; {errors}")


def time_both_cases(
    session: HostSession, host: str, pose_folder: Path, job_dir: Path, repeat: int, target: float
) -> tuple[float, float, PreflightReport]:
    """Time and print the pose case, and the Sparse4D case cold and again; the cold Sparse4D figures."""
    _report("pose train, 2 GB .npy", timed(pose_case(session, pose_folder, host), repeat), target)
    sparse = sparse4d_case(session, job_dir, host)
    cold: tuple[float, float, PreflightReport] = timed(sparse, repeat)
    size = next(job_dir.glob("results/train/*.pkl")).stat().st_size
    _report(f"sparse4d train, {size / MB:.0f} MB infos, cold", cold, target)
    _report("  same, pickle unchanged since last check", timed(sparse, repeat, cold=False), None)
    return cold


def open_ssh() -> tuple[HostSession, Any] | None:
    """A session on a private sshd on 127.0.0.1 (None when OpenSSH is not installed)."""
    from app.core.hosts.ssh import SshHostSession
    from tests.infra.sshd import sshd_binary, start_sshd

    if sshd_binary() is None:
        return None
    server, process = start_sshd(Path(tempfile.mkdtemp(prefix="bench-sshd-")))
    server.accept_host_key()
    return SshHostSession(server.host_config(tempfile.gettempdir())), process


def main(argv: list[str] | None = None) -> int:
    """Build the data, time preflight locally and over SSH, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--infos-mb", type=float, default=200)
    parser.add_argument("--npy-gb", type=float, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-preflight-") as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        pose_folder, sequences = make_pose_data(folder / "pose", args.npy_gb)
        job_dir = make_sparse4d_data(folder / "scenes", args.infos_mb)
        infos = next(job_dir.glob("results/train/*.pkl"))
        size = infos.stat().st_size
        print(
            f"data: train_data.npy {(pose_folder / 'train_data.npy').stat().st_size / 1024**3:.2f} GB "
            f"({sequences} sequences, sparse), infos pickle {size / MB:.0f} MB "
            f"(made in {time.perf_counter() - started:.0f} s); median of {args.repeat} runs"
        )
        local = LocalHostSession(HostConfig(name="local", workspace=scratch))
        print("local:")
        cold = time_both_cases(local, "local", pose_folder, job_dir, args.repeat, 2.0)
        read, _, infos_bytes = timed(lambda: local.read_range(str(infos), 0, size + 1), args.repeat)
        full, full_cpu, _ = timed(lambda: load_pickle_bytes(infos_bytes, "infos", max_bytes=size + 1), 1)
        print(
            f"  reference: read the infos whole {read:.2f} s; full safe load {full:.2f} s, CPU {full_cpu:.2f}"
        )
        print(f"  preflight / full safe load: {cold[0] / full:.2f} (wall), {cold[1] / full_cpu:.2f} (CPU)")
        infos_bytes = b""
        opened = open_ssh()
        if opened is None:
            print("ssh: skipped (OpenSSH server not installed)")
            return 0
        remote, process = opened
        try:
            print("ssh (private sshd on 127.0.0.1, SFTP):")
            cold = time_both_cases(remote, "lab", pose_folder, job_dir, args.repeat, 5.0)
            read_remote, _, _ = timed(lambda: remote.read_range(str(infos), 0, size + 1), args.repeat)
            rate = size / MB / read_remote
            print(f"  reference: SFTP read of the infos whole {read_remote:.2f} s ({rate:.0f} MB/s)")
            print(f"  preflight / SFTP read: {cold[0] / read_remote:.2f}")
        finally:
            remote.close()
            process.terminate()
            process.wait(timeout=10)
        print(
            f"load average during the run: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
            f"on {os.cpu_count()} CPUs"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
