"""Signals about people: sent inside the transaction, after a flush; receivers must not commit."""

from blinker import Namespace

_signals = Namespace()

#: sender=the user created or changed (roles, department, job title, active); kwargs: actor.
user_saved = _signals.signal("user-saved")
