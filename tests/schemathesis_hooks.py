"""Schemathesis hooks for tests/test_api_schema.py: half the generated path codes are real
codes of the test city (conftest's ``city``), so answers other than 404 are checked too."""

from __future__ import annotations

import random

import schemathesis

REAL_CODES = ("COUNTR1", "OFFICE1", "OFFICR1", "O1", "O2", "countr1", "D1", "O1-Q1", "CB1")


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if path_parameters and "code" in path_parameters and random.random() < 0.5:
        return {**path_parameters, "code": random.choice(REAL_CODES)}
    return path_parameters
