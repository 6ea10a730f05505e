"""The observatory: live figures, trends, anomaly notices and the transparency report.

Domains contribute figures from their own ``figures.py`` (contract: ``tocsin.core.figures``);
this package stores them as facts, keeps rollups for the dashboard and writes the report.
"""
