"""Lifecycle signals other parts of the product listen to (training, copies, search).

They are sent inside the transaction that makes the change, after a flush, so a receiver can
add its own rows to the same unit of work: if the transaction rolls back, so does theirs.
Receivers must not commit.
"""

from blinker import Namespace

_signals = Namespace()

#: sender=the revision that became effective; kwargs: superseded (list of revisions it
#: replaced), actor (User or None when the date arrived with nobody acting), now.
revision_effective = _signals.signal("revision-effective")

#: sender=the withdrawn (now obsolete) document; kwargs: revisions (those that were in force or
#: scheduled and are now obsolete), actor, now, reason.
document_withdrawn = _signals.signal("document-withdrawn")
