"""The Mesa reference implementation: one Agent per firm and per bank, the rules as plain methods.

Used as the oracle for the numba engine (tests/test_reference.py) and selected with
`sim run --engine reference` or `sim.run(..., engine="reference")`.
"""

from .agents import BankAgent, FirmAgent
from .model import ReferenceEconomy

__all__ = ["BankAgent", "FirmAgent", "ReferenceEconomy"]
