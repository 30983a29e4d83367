"""People: a clinic's clients (its patients), matched by email, never merged by a shared phone."""
