"""Payments: the only package that talks to Stripe (and, in development and tests, to localstripe)."""
