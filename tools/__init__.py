"""Maintenance tools that run without the ``tocsin`` package (dependency audit)."""
