"""The patient's meeting page at ``meeting_url`` (``/meet/<meeting_uuid>?signature=…``)."""
