"""How long the suite waits for work done in another process.

Test runs share a machine of two cores with other test runs, and every child process imports
artifactfs with pandas and pyarrow: a wait that is ample on a quiet machine is missed on a busy
one. So a wait for another process is not a measure of speed; it only stops a hang, and is long.
"""

from __future__ import annotations

HANG = 1800  # seconds: a child process, however slow, that takes longer than this is stuck
EMULATOR_START = 300  # seconds for a cloud emulator to answer its first request
