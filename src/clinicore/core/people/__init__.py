"""People: a clinic's clients (its patients), found or created by email or phone."""
