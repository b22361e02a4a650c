"""KPI reports (issue 15): the KPIs of shared/domain.md by interval and dimension, exports,
scheduled report files, targets and the staffing forecast. pandas is allowed here."""
