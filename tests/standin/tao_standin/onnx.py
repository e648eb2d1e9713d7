"""Small but well-formed ONNX ModelProto files: graph inputs, outputs and weights as initializers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import protobuf as pb

FLOAT = 1
Dimension = int | str


def _value_info(name: str, shape: list[Dimension]) -> bytes:
    dims = b"".join(
        pb.bytes_field(1, pb.string_field(2, dim) if isinstance(dim, str) else pb.int_field(1, dim))
        for dim in shape
    )
    tensor_type = pb.int_field(1, FLOAT) + pb.bytes_field(2, dims)
    return pb.string_field(1, name) + pb.bytes_field(2, pb.bytes_field(1, tensor_type))


def _initializer(name: str, array: np.ndarray) -> bytes:
    data = np.ascontiguousarray(array, dtype="<f4")
    dims = b"".join(pb.int_field(1, int(dim)) for dim in data.shape)
    return dims + pb.int_field(2, FLOAT) + pb.string_field(8, name) + pb.bytes_field(9, data.tobytes())


def write_model(
    path: Path,
    graph_name: str,
    inputs: dict[str, list[Dimension]],
    outputs: dict[str, list[Dimension]],
    weights: dict[str, np.ndarray],
    opset: int,
) -> None:
    """Write a ModelProto (ir_version 8, producer "pytorch") with the given graph signature."""
    graph = pb.string_field(2, graph_name)
    for name, array in weights.items():
        graph += pb.bytes_field(5, _initializer(name, array))
    for name, shape in inputs.items():
        graph += pb.bytes_field(11, _value_info(name, shape))
    for name, shape in outputs.items():
        graph += pb.bytes_field(12, _value_info(name, shape))
    model = (
        pb.int_field(1, 8)
        + pb.string_field(2, "pytorch")
        + pb.string_field(3, "2.1.0")
        + pb.bytes_field(7, graph)
        + pb.bytes_field(8, pb.string_field(1, "") + pb.int_field(2, opset))
    )
    path.write_bytes(model)
