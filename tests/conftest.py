"""Shared test settings: a hypothesis profile that is thorough but bounded in time."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "course",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("HYPOTHESIS_DERANDOMIZE", "1") == "1",
)
settings.load_profile("course")
