"""Enum members are found as before once app/__init__.py drops 3.11's EnumType.__getattr__."""

import enum
import sys

import pytest

import app  # noqa: F401  (the import applies the change)
from app.domain.calendar import Timeliness
from app.domain.lifecycle import Action, Status


class Shadowing(str, enum.Enum):
    # Members named like a descriptor of Enum (found through enum.property) or a method of str.
    name = "n"
    value = "v"
    upper = "u"


def test_the_hook_is_gone_on_311():
    assert "__getattr__" not in vars(enum.EnumType) or sys.version_info >= (3, 12)


def test_members_by_attribute():
    assert Status.RECEIVED is Status(2) and Status.RECEIVED.value == 2
    assert Action.FORWARD is Action("forward") and Action.FORWARD.name == "FORWARD"
    assert Timeliness.LATE.value == "late"


def test_members_shadowing_descriptors():
    assert Shadowing.name is Shadowing("n") and Shadowing.name.name == "name"
    assert Shadowing.value.value == "v"
    assert Shadowing.upper is Shadowing("u")


def test_missing_members_still_raise():
    with pytest.raises(AttributeError):
        Status.NOT_A_STATUS  # noqa: B018
    with pytest.raises(AttributeError):
        Shadowing.__missing_dunder__  # noqa: B018
