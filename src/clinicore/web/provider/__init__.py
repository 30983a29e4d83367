"""The provider desk: sign-in, the queue, the consultation page, decisions and prescriptions."""
