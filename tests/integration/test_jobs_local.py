"""Jobs through the real path: the stand-in TAO image on the local Docker engine and over SSH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.model import JobStatus
from app.core.jobs.plan import LaunchError
from app.core.specs.service import render_spec
from tests.infra.jobs import needs_standin, pose_overrides
from tests.standin.make_pose_data import PoseDataset

pytestmark = [pytest.mark.docker, needs_standin]
POSE = "tao-train-pose-classification"


@pytest.fixture(params=["local", pytest.param("lab", marks=pytest.mark.ssh)])
def host(request: pytest.FixtureRequest, manager: JobManager) -> str:
    """Each test runs on the local engine and on an SSH host (the private sshd, same engine)."""
    if request.param == "lab":
        config = request.getfixturevalue("ssh_host_config")
        local = manager.hosts.get("local")
        config.default_images = dict(local.default_images)
        config.extra_env = dict(local.extra_env)
        config.shm_size = local.shm_size
        manager.hosts.put(config)
    return str(request.param)


def _request(
    manager: JobManager, action: str, data: PoseDataset, host: str = "local", **kwargs: object
) -> LaunchRequest:
    skill = manager.bank.skill(POSE)
    spec = render_spec(skill, action, overrides=pose_overrides(data))
    return LaunchRequest(skill=POSE, action=action, host=host, spec=spec, **kwargs)  # type: ignore[arg-type]


def test_pose_train_evaluate_export_inference_with_checkpoint_hand_off(
    host: str, manager: JobManager, pose_data: PoseDataset
) -> None:
    train = manager.launch(_request(manager, "train", pose_data, host=host))
    assert train.status is JobStatus.RUNNING and train.container_id
    container = manager.session(host).docker.containers.get(train.container_id)
    config = container.attrs["Config"]
    assert config["Labels"]["taodesk.job"] == train.id and config["Labels"]["taodesk.action"] == "train"
    assert container.name == f"taodesk-{train.id}"
    assert config["User"].split(":")[0].isdigit()
    assert config["Env"] and any(e.startswith(f"HOME={train.job_dir}/.home") for e in config["Env"])
    host_config = container.attrs["HostConfig"]
    limits = {u["Name"]: u["Soft"] for u in host_config["Ulimits"]}
    if any("memlock" in w for w in train.extra.get("warnings", [])):
        assert limits == {"stack": 67108864}, (
            "engine refused unlimited memlock: retried without it, and said so"
        )
    else:
        assert limits == {"memlock": -1, "stack": 67108864}
    mounts = {m["Source"]: m["RW"] for m in container.attrs["Mounts"]}
    assert mounts[str(pose_data.folder)] is False, "data is mounted read-only"
    assert mounts[train.job_dir] is True
    train = manager.follow(train.id)
    assert train.status is JobStatus.COMPLETED, manager.log(train.id).text(last=40)
    assert train.exit_code == 0
    log_text = manager.log(train.id).text()
    assert "Execution status: PASS" in log_text
    status_lines = Path(train.results_dir, "train", "status.json").read_text().splitlines()
    assert any(
        json.loads(line).get("kpi", {}).get("val_loss") is not None
        for line in status_lines
        if "NaN" not in line
    )
    checkpoints = sorted(p.name for p in Path(train.results_dir, "train").glob("model_epoch_*.pth"))
    assert checkpoints[-1] == "model_epoch_003_step_00032.pth"

    evaluate = manager.launch(_request(manager, "evaluate", pose_data, host=host, parent_id=train.id))
    assert "model_epoch_003_step_00032.pth" in evaluate.checkpoint
    evaluate = manager.follow(evaluate.id)
    assert evaluate.status is JobStatus.COMPLETED, manager.log(evaluate.id).text(last=40)
    assert evaluate.parent_id == train.id and [j.id for j in manager.store.children(train.id)] == [
        evaluate.id
    ]

    chosen = checkpoints[0]
    export = manager.launch(
        _request(manager, "export", pose_data, host=host, parent_id=train.id, checkpoint=chosen)
    )
    assert export.checkpoint.endswith(chosen), "the exact checkpoint the user picked is handed off"
    assert manager.follow(export.id).status is JobStatus.COMPLETED
    onnx = Path(export.results_dir, "export", "pose_classification.onnx")
    assert onnx.is_file()

    inference = manager.launch(_request(manager, "inference", pose_data, host=host, parent_id=train.id))
    inference = manager.follow(inference.id)
    assert inference.status is JobStatus.COMPLETED, manager.log(inference.id).text(last=40)
    predictions = Path(inference.results_dir, "inference", "results.txt").read_text().splitlines()
    assert len(predictions) == 24 and set(predictions) <= set(pose_data.label_map)


def test_failure_gets_the_skill_hint_and_missing_image_is_refused(
    host: str, manager: JobManager, pose_data: PoseDataset
) -> None:
    request = _request(manager, "train", pose_data, host=host)
    request.spec.set("dataset.batch_size", 500)
    job = manager.follow(manager.launch(request).id)
    assert job.status is JobStatus.FAILED and job.exit_code == 1
    assert "smaller than the total batch size" in manager.log(job.id).text()
    assert "batch" in job.error_hint.lower()
    missing = _request(manager, "train", pose_data, host=host, image="taodesk-no-such-image:1")
    with pytest.raises(LaunchError, match=f"is not on host '{host}'"):
        manager.launch(missing)


def test_cancel_stops_the_container(host: str, manager: JobManager, pose_data: PoseDataset) -> None:
    request = _request(manager, "train", pose_data, host=host)
    request.spec.set("train.num_epochs", 200)
    config = manager.hosts.get(host)
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = "0.5"
    manager.hosts.put(config)
    job = manager.launch(request)
    job = manager.cancel(job.id, grace_seconds=2)
    assert job.status is JobStatus.CANCELLED


def test_oom_is_reported_with_the_hint(host: str, manager: JobManager, pose_data: PoseDataset) -> None:
    config = manager.hosts.get(host)
    config.extra_env["TAODESK_STANDIN_ALLOCATE_MB"] = "400"
    manager.hosts.put(config)
    job = manager.wait(
        manager.launch(_request(manager, "train", pose_data, host=host, memory_limit="96m")).id, timeout=120
    )
    assert job.status is JobStatus.FAILED and job.exit_code == 137
    assert "out of memory" in job.error_hint.lower()


def test_gpu_job_on_an_engine_without_gpus_leaves_no_container(
    host: str, manager: JobManager, pose_data: PoseDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.hosts.gpus import GpuInfo, GpuInventory

    fake = GpuInventory(
        gpus=[
            GpuInfo(
                index=0,
                name="Test GPU",
                memory_total_mib=16000,
                memory_used_mib=0,
                utilization_percent=0,
                uuid="GPU-0",
            )
        ],
        note="",
    )
    monkeypatch.setattr("app.core.jobs.manager.list_gpus", lambda session: fake)
    request = _request(manager, "train", pose_data, host=host, gpus=[0])
    with pytest.raises(LaunchError, match="cannot give GPUs"):
        manager.launch(request)
    client = manager.session(host).docker
    leftovers = client.containers.list(
        all=True, filters={"label": f"taodesk.job={manager.store.all()[0].id}"}
    )
    assert leftovers == []
    assert manager.store.all()[0].status is JobStatus.FAILED


def test_following_a_quiet_job_stops_promptly(manager: JobManager, pose_data: PoseDataset) -> None:
    import threading
    import time

    config = manager.hosts.get("local")
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = "20"
    manager.hosts.put(config)
    job = manager.launch(_request(manager, "train", pose_data))
    stop = threading.Event()
    follower = threading.Thread(target=manager.follow, args=(job.id,), kwargs={"stop": stop})
    follower.start()
    time.sleep(1.5)
    stopped_at = time.monotonic()
    stop.set()
    follower.join(timeout=5)
    assert not follower.is_alive() and time.monotonic() - stopped_at < 2, (
        "the follower ends without new output"
    )
    manager.cancel(job.id, grace_seconds=1)
