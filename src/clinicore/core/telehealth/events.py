"""Telehealth event types. Every telehealth event belongs to its meeting (aggregate ``meeting``), so
that the endpoint an invite's ``webhook_url`` created (bound to that meeting) receives them in order."""

from __future__ import annotations

AGGREGATE = "meeting"

PATIENT_EXAM_CREATED = "patient_exam.created"
PATIENT_EXAM_CANCELLED = "patient_exam.cancelled"
PATIENT_EXAM_COMPLETED = "patient_exam.completed"  # Qualiphy event 1: an outcome was decided
PRESCRIPTION_CONFIRMED = "prescription.confirmed"  # Qualiphy event 2: the pharmacy confirmed
PRESCRIPTION_SHIPPED = "prescription.shipped"  # Qualiphy event 3: the pharmacy shipped

# What an invite's own webhook hears: the exam decided, its prescription confirmed, then shipped.
INVITE_WEBHOOK_EVENT_TYPES = (PATIENT_EXAM_COMPLETED, PRESCRIPTION_CONFIRMED, PRESCRIPTION_SHIPPED)
