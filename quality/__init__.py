"""Quality control (质检, issue 19): scorecards, the review queue, agents' own scores, KPI
alerts and QA reports.

Pure cores (no I/O, time as an argument): ``cards`` (scorecard model and composite score),
``sampling`` (which calls to review each week), ``alerts`` (thresholds over KPI values),
``summary`` (QA report arithmetic). Storage: ``models`` and ``store``, ``review``,
``alert_store``.
"""
