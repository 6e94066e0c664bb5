"""Cổng Dịch vụ công: the Litestar application (HTTP, database, services, simulation)."""

import enum
import sys

if sys.version_info < (3, 12) and "__getattr__" in vars(enum.EnumType):
    # Python 3.11's EnumType.__getattr__ is a leftover that 3.12 removed: every member is
    # already in its class's __dict__ (or behind an enum.property that finds it), so the
    # hook never finds anything the normal look-up missed, but its mere presence makes each
    # ``Status.RECEIVED`` a Python-level call (~120 ns instead of ~25 ns). The state
    # machine, the calendar and the simulator read members millions of times a simulated
    # year: this took 5-10 % of a run. tests/unit/test_enum_access.py checks the look-ups.
    del enum.EnumType.__getattr__
