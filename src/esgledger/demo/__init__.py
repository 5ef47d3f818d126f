"""The seed group's demo dataset (2020-2024) and the ledger built from it."""

from esgledger.demo.build import DEMO_DATA, build_demo

__all__ = ["DEMO_DATA", "build_demo"]
