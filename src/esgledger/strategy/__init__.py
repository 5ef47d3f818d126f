"""Carbon strategy on the inventory: forecasts, Kaya-LMDI decomposition, targets and
pathways, cost-optimal abatement, uncertainty (issue 7). Pure libraries: frames, inventory
results and plain values in, results out; the use cases that read them from the ledger's Book
are in :mod:`esgledger.usecases.strategy`."""
