"""The economy's step phases by mechanism, as mixins of `sim.model.IndustrialEconomy` (whose `step`
is the one place where their order lives)."""
