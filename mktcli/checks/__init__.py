"""Checks recorded with every creative (rule id, severity, passed, message)."""
