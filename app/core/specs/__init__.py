"""Spec documents: defaults, dotted overrides, YAML in and out, validation, diff, the form model."""
