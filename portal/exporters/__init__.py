"""Exports of the directory in open formats (Open Referral UK's tabular data package)."""
