"""The web layer's rooms: one module (or package) of views per audience.

- counter: the kiosk tablet at the counter, and pairing it
- phone, tickets: the citizen's phone survey, QR images, posters, ticket surveys
- dashboard: managers' figures; alerts: what needs looking at now; auth: signing in and out
- admin: administration (kiosks, codes, posters, tickets, ratings held for review)
- api: the JSON API under /api/v1
"""

from kiosk.views import (
    account,
    actions,
    admin,
    alerts,
    api,
    auth,
    cases,
    counter,
    dashboard,
    digest,
    health,
    phone,
    public,
    tickets,
)

BLUEPRINTS = (
    phone.bp,
    tickets.bp,
    counter.bp,
    dashboard.bp,
    alerts.bp,
    digest.bp,
    public.bp,
    actions.bp,
    cases.bp,
    auth.bp,
    account.bp,
    health.bp,
    *admin.BLUEPRINTS,
    *api.BLUEPRINTS,
)
#: Authenticated by bearer tokens (or read-only with the session cookie): no CSRF token.
JSON_BLUEPRINTS = api.BLUEPRINTS
