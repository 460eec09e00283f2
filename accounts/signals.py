"""Signals the accounts app sends.

Accounts may not import the apps that hold the rest of a person's data (orders, carts), so those apps contribute to a
GDPR export and carry out their part of an erasure through the first two (never connected here). The third is the
accounts app's own (`accounts.receivers`).
"""

from django.dispatch import Signal

# Sent by `accounts.selectors.export_personal_data`: sender=User, user=..., emails=[the user's verified addresses].
# Each receiver returns a dict of JSON-ready sections ({"orders": [...]}) that are added to the export.
personal_data_requested = Signal()

# Sent inside the unit of work of `accounts.services.erase_personal_data`, before the user row is anonymised:
# sender=User, user=..., emails=[the user's verified addresses], placeholder="the anonymous email that replaces them".
# Receivers erase or anonymise what their app holds about the user; raising undoes the whole erasure.
personal_data_erased = Signal()

# Sent by `User.objects....update()` and `bulk_update()`, which Django sends no `post_save` for: sender=User,
# user_ids=[the primary keys of the rows they wrote]. `accounts.receivers` replaces their version tokens.
users_updated = Signal()
