"""Telehealth: the exam catalog, invites and patient exams through their lifecycle, providers,
prescriptions and the consultation record.

Modules: catalog (exams, questions), invites (invite, resend, cancel), routing (where an Rx exam's
prescription goes), answers, attachments, lifecycle (questionnaire, waiting room, provider queue,
decisions), visit (the patient's steps at the meeting link), transitions (the one table of status
moves), prescriptions (prescribe, pharmacy confirms, ships), timers (test-mode providers, the missed
rule), snapshots (event payloads), documents (the consultation PDF), providers, states, test_mode,
events (event types); every query in repository.
"""
