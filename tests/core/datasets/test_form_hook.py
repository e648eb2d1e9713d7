"""Preflight findings shown at their fields: the form's external issues."""

from __future__ import annotations

from app.core.datasets.findings import ERROR, INFO, WARNING, Finding, findings_to_issues
from app.core.skills.model import Skill
from app.core.specs.form import ActionForm
from app.core.specs.validation import ERROR as SPEC_ERROR
from app.core.specs.validation import WARNING as SPEC_WARNING


def test_findings_become_field_issues_until_the_field_is_edited(pose: Skill) -> None:
    form = ActionForm(pose, "train")
    assert not form.has_errors
    seen: list[int] = []
    form.issues_changed.connect(lambda issues: seen.append(len(issues)))
    issues = findings_to_issues(
        [
            Finding(ERROR, "dataset.batch_size", "16 sequences, fewer than the batch", "set it to 16"),
            Finding(WARNING, "train.gpu_ids", "num_gpus is 2 but gpu_ids lists 1"),
            Finding(INFO, "dataset.train_dataset.data_path", "40 sequences"),
            Finding(ERROR, "", "cannot reach the host"),
        ]
    )
    assert [(i.path, i.severity) for i in issues] == [
        ("dataset.batch_size", SPEC_ERROR),
        ("train.gpu_ids", SPEC_WARNING),
    ]
    assert issues[0].message == "preflight: 16 sequences, fewer than the batch (fix: set it to 16)"
    form.set_external_issues(issues)
    assert form.has_errors and seen
    assert [i.message for i in form.issues_at("dataset.batch_size")] == [issues[0].message]
    form.revalidate()
    assert form.issues_at("dataset.batch_size"), "kept across revalidation"
    form.set_value("dataset.batch_size", 8)
    assert not form.issues_at("dataset.batch_size") and not form.has_errors
    assert form.issues_at("train.gpu_ids")
    form.set_external_issues([])
    assert not form.issues_at("train.gpu_ids")
