"""Assessments: the double-materiality library (topics, scales, scoring, tiers, matrix).

Pure functions over pandas frames and packaged CSV data (``esgledger/assess/data``); nothing
here persists. See :mod:`esgledger.assess.materiality` for the rule and its sources,
:mod:`esgledger.assess.topics` for the topic lists and their changes, and
:mod:`esgledger.assess.demo` for the SYNTHETIC demo responses.
"""
