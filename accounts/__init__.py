"""Accounts: two-factor login, lockout, session expiry and deactivation of users."""
