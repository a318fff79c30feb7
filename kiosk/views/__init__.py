"""The web layer's rooms: one module (or package) of views per audience.

- counter: the kiosk tablet at the counter, and pairing it
- phone, tickets: the citizen's phone survey, QR images, posters, ticket surveys
- dashboard: managers' figures; comments: the comments inbox; alerts: what needs looking at
  now; auth: signing in and out
- admin: administration (kiosks, codes, posters, tickets, ratings held for review)
- api: the JSON API under /api/v1
- site, health: /favicon.ico and the load balancer's /healthz
"""

from kiosk.views import (
    account,
    actions,
    admin,
    alerts,
    api,
    auth,
    cases,
    comments,
    counter,
    dashboard,
    digest,
    health,
    phone,
    public,
    site,
    tickets,
)

BLUEPRINTS = (
    phone.bp,
    tickets.bp,
    counter.bp,
    dashboard.bp,
    comments.bp,
    alerts.bp,
    digest.bp,
    public.bp,
    actions.bp,
    cases.bp,
    auth.bp,
    account.bp,
    health.bp,
    site.bp,
    *admin.BLUEPRINTS,
    *api.BLUEPRINTS,
)
#: Authenticated by bearer tokens (or read-only with the session cookie): no CSRF token.
JSON_BLUEPRINTS = api.BLUEPRINTS
