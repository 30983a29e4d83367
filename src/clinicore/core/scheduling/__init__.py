"""Scheduling: working hours, availability and booking rules (``availability`` is the pure part)."""
