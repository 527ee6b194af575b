"""Importers of other directories' data (Outpost JSON; Open Referral UK later)."""
