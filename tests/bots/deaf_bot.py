"""Answers the handshake, then never reads its stdin again (nor exits)."""

import json
import sys
import time

json.loads(sys.stdin.readline())
sys.stdout.write(json.dumps({"type": "hello", "protocol": 1, "name": "deaf"}) + "\n")
sys.stdout.flush()
time.sleep(3600)
