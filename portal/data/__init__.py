"""Domain functions: typed, keyword-only, take the acting user, write audit events, never commit."""
