"""Skill banks: loading bundles and TAO's schema dialect into field trees."""

from app.core.skills.bank import SkillBank, load_banks
from app.core.skills.fields import MANDATORY, Field, FieldKind
from app.core.skills.model import Action, DataRequirement, ErrorPattern, Skill, SpecRule
from app.core.skills.problems import LoadProblem

__all__ = [
    "MANDATORY",
    "Action",
    "DataRequirement",
    "ErrorPattern",
    "Field",
    "FieldKind",
    "LoadProblem",
    "Skill",
    "SkillBank",
    "SpecRule",
    "load_banks",
]
