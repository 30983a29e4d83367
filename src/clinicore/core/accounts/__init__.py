"""Desk accounts (providers, pharmacy users): passwords, sign-in with throttling, server-side sessions."""
