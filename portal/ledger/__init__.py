"""The double-entry ledger (see core.py) and its invariants (invariants.py)."""

from portal.ledger.core import (
    DPBalances,
    InsufficientFunds,
    JournalConflict,
    LedgerError,
    UnbalancedJournal,
    balance,
    captured_pence,
    dp_balances,
    ledger_account,
    lock_dp_account,
    post_journal,
    reverse,
    transfer,
)
from portal.ledger.invariants import HOLDING_STATES, check_invariants

__all__ = [
    "DPBalances", "HOLDING_STATES", "InsufficientFunds", "JournalConflict", "LedgerError", "UnbalancedJournal",
    "balance", "captured_pence", "check_invariants", "dp_balances", "ledger_account", "lock_dp_account",
    "post_journal", "reverse", "transfer",
]
