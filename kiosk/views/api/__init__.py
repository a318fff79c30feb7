"""The JSON API under /api/v1, one module per concern; its description is assembled from
what each view declares (openapi.py)."""

from kiosk.views.api import docs, insights, kiosk, offices, org, responses, tickets

BLUEPRINTS = (responses.bp, offices.bp, insights.bp, org.bp, tickets.bp, kiosk.bp, docs.bp)
