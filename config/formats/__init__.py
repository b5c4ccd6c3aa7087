"""Kobling's date and time formats per language (settings.FORMAT_MODULE_PATH). Each module sets
only what differs from Django's own formats for that language."""
