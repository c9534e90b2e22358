"""Failpoints for the fault-injection script (scripts/fault_test.py): when the environment
names a point, the request pauses there, inside its transaction, so the script can kill the
server at a known moment. Never set in normal running."""

import os
import time


def failpoint(name: str) -> None:
    if os.environ.get("DOCMGMT_FAILPOINT") == name:
        time.sleep(float(os.environ.get("DOCMGMT_FAILPOINT_SECONDS", "30")))
