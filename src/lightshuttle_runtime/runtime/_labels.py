"""The labels that mark the containers the runtime manages, and a project's network name.

A module of its own (no imports) so that ``lightshuttle-runtime ps`` and the like name them
without loading the spec and create-body code.
"""

from __future__ import annotations

__all__ = ["LABEL_PROJECT", "LABEL_RESOURCE", "PROJECT_NETWORK_PREFIX", "project_network_name"]

LABEL_PROJECT = "lightshuttle.project"
LABEL_RESOURCE = "lightshuttle.resource"
#: A project's containers join the user-defined bridge network ``lightshuttle-<project>``.
PROJECT_NETWORK_PREFIX = "lightshuttle-"


def project_network_name(project: str) -> str:
    """The name of ``project``'s network: ``lightshuttle-<project>``."""
    return f"{PROJECT_NETWORK_PREFIX}{project}"
