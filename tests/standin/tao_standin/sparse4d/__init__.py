"""Sparse4D stand-in: an anchor bank refined on the converted infos, with nuScenes-style outputs."""
