"""Data-services stand-in: `annotations convert` from AICity scenes to OVPKL infos and anchors."""
