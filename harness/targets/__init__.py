"""Provisioning: bring Conductor servers up and down (the first arrow of the data flow)."""

from harness.targets.model import RunningTarget, TargetIdentity
from harness.targets.profiles import DEFAULT_PROFILE, PROFILES, get_profile
from harness.targets.provision import provision, start_target
from harness.targets.spec import Flavor, TargetSpec, parse_target

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Flavor",
    "RunningTarget",
    "TargetIdentity",
    "TargetSpec",
    "get_profile",
    "parse_target",
    "provision",
    "start_target",
]
