"""Administration, for administrators: kiosks, survey codes and printed matter, and ratings
held back for review."""

from kiosk.views.admin import codes, home, kiosks, suspect

BLUEPRINTS = (home.bp, kiosks.bp, codes.bp, suspect.bp)
