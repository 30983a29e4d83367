"""Telehealth: the exam catalog, invites and patient exams through their lifecycle, providers,
prescriptions. Sub-modules: catalog, providers, test_mode (and, as they land: invites, answers,
attachments, lifecycle, prescriptions, documents)."""
