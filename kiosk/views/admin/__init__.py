"""Administration, for administrators: kiosks, survey codes and printed matter, and ratings
held back for review."""

from kiosk.views.admin import (
    alert_rules,
    audit,
    codes,
    home,
    imports,
    kiosks,
    org,
    surveys,
    suspect,
    users,
)

BLUEPRINTS = (
    home.bp,
    org.bp,
    imports.bp,
    kiosks.bp,
    codes.bp,
    surveys.bp,
    users.bp,
    audit.bp,
    suspect.bp,
    alert_rules.bp,
)
