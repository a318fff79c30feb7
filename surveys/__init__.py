"""Hài Lòng domain core: organisation, surveys, responses and statistics (no Flask here)."""
