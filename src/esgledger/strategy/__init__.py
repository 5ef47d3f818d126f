"""Carbon strategy on the inventory: forecasts, Kaya-LMDI decomposition, targets and
pathways, cost-optimal abatement, uncertainty (issue 7). Libraries over frames; the ledger
adapters read the inventory through :mod:`esgledger.service`."""
