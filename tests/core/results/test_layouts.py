"""Skeleton layouts: TAO's six graphs, 0-based, connected, and a clear error for unknown names."""

from __future__ import annotations

import pytest

from app.core.results.layouts import LAYOUTS, UnknownLayoutError, layout_for

# (joints, centre, persons, edges) per TAO_FACTS 1.3
TAO_TABLE = {
    "nvidia": (34, 0, 1, 35),
    "openpose": (18, 1, 1, 17),
    "human3.6m": (17, 8, 1, 17),
    "ntu-rgb+d": (25, 20, 2, 24),
    "ntu_edge": (24, 2, 2, 23),
    "coco": (17, 0, 1, 19),
}


def test_all_six_layouts_exist() -> None:
    assert set(LAYOUTS) == set(TAO_TABLE)


@pytest.mark.parametrize("name", sorted(TAO_TABLE))
def test_layout_matches_tao(name: str) -> None:
    joints, centre, persons, edge_count = TAO_TABLE[name]
    layout = layout_for(name)
    assert (layout.num_joints, layout.center, layout.num_person, len(layout.edges)) == (
        joints,
        centre,
        persons,
        edge_count,
    )
    edges = layout.edge_array()
    assert edges.shape == (edge_count, 2)
    assert edges.min() >= 0 and edges.max() < joints


@pytest.mark.parametrize("name", sorted(TAO_TABLE))
def test_every_joint_is_reachable_from_the_centre(name: str) -> None:
    layout = layout_for(name)
    neighbours: dict[int, set[int]] = {joint: set() for joint in range(layout.num_joints)}
    for child, parent in layout.edges:
        neighbours[child].add(parent)
        neighbours[parent].add(child)
    seen, frontier = {layout.center}, [layout.center]
    while frontier:
        joint = frontier.pop()
        for other in neighbours[joint] - seen:
            seen.add(other)
            frontier.append(other)
    assert seen == set(range(layout.num_joints))


def test_one_based_layouts_are_converted() -> None:
    assert layout_for("ntu-rgb+d").edges[:2] == ((0, 1), (1, 20))
    assert (21, 22) in layout_for("ntu-rgb+d").edges
    assert layout_for("ntu_edge").edges[0] == (0, 1)
    assert layout_for("coco").edges[0] == (15, 13)


def test_names_are_matched_without_case_or_spaces() -> None:
    assert layout_for(" NVIDIA ") is LAYOUTS["nvidia"]


def test_unknown_layout_names_the_known_ones() -> None:
    with pytest.raises(UnknownLayoutError) as caught:
        layout_for("kinetics")
    message = str(caught.value)
    assert "kinetics" in message
    assert all(name in message for name in TAO_TABLE)
