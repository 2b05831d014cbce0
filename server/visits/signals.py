"""Signals of visits: how other apps (coverage) follow the household round states without visits knowing them."""

from django.dispatch import Signal

# Sent inside the refresh's transaction, after the states of `household_ids` in round `round_id` were rewritten;
# `cell_ids` are those households' grid cells.
# Receivers run in the same transaction and under the same cell locks (server/visits/locks.py).
household_round_states_refreshed = Signal()
