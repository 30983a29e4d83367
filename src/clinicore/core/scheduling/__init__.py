"""Scheduling: practitioners and their hours (``hours``), booking settings (``settings``), busy blocks
(``blocks``), open slots (``slots``), booking and changing appointments (``booking``) and calendar feeds
(``feeds``). The pure parts: ``availability`` (the slot engine), ``rules`` (lengths, time zones) and
``transitions`` (the appointment status table)."""
