"""The economy around the modelled industries: households, government, central bank, rest of the
world and the rest of the domestic economy, and the whole economy's accounts (issue 19).

`Institutions` (institutions.py) buys the industries' final demand out of budgets and closes the
month's transaction-flow matrix (accounts.py); the scenario's `[economy] closure = "closed"`
switches it on.
"""

from .accounts import FLOW_NAMES, INSTITUTIONS, ITEM_NAMES
from .institutions import Institutions

__all__ = ["FLOW_NAMES", "INSTITUTIONS", "ITEM_NAMES", "Institutions"]
