"""Signals of visits: how other apps (coverage) follow the visits without visits knowing them."""

from django.dispatch import Signal

# Sent inside the transaction of a batch of visits just stored (a push, a walk sheet, the web form), with
# `round_cells`: round id -> ids of the grid cells of the households visited. Coverage queues those cells for a
# refresh of their figures, which it computes from the visits themselves (not from the household round states).
visits_recorded = Signal()
