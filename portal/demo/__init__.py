"""The demonstration borough: deterministic fictional data for development and tests."""
