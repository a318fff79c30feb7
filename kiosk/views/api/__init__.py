"""The JSON API under /api/v1, one module per concern; its description is assembled from
what each view declares (openapi.py)."""

from kiosk.views.api import (
    callbacks,
    docs,
    insights,
    kiosk,
    offices,
    org,
    public,
    responses,
    tickets,
    webhooks,
)

BLUEPRINTS = (
    responses.bp,
    offices.bp,
    insights.bp,
    org.bp,
    tickets.bp,
    kiosk.bp,
    webhooks.bp,
    public.bp,
    callbacks.bp,
    docs.bp,
)
