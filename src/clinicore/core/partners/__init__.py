"""The partner console's core: partner users and their sessions, and the partner's white-label brand."""
