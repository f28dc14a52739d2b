"""What the accounts domain tells the domains above it, without importing them."""

from __future__ import annotations

from flask.signals import Namespace

_signals = Namespace()

# Sent by the app after a person signed in (GitHub or the demo's sign-in), in the request's
# transaction, with `user` and `session`: the companies domain accepts their invitations.
signed_in = _signals.signal("signed-in")
