"""A stand-in for NVIDIA's TAO containers, used by TAO Desk's tests.

It honours TAO's command lines, spec keys and output layout (pose_classification, sparse4d and the
data-services `annotations convert`) and does real, small numpy work so that curves, checkpoints and
outputs are genuine.
"""
