"""The API described in OpenAPI 3.1, served at /api/v1/openapi.json."""

from __future__ import annotations

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

TEXT = {
    "type": "object",
    "required": ["vi", "en"],
    "properties": {"vi": {"type": "string"}, "en": {"type": "string"}},
}

RATE = {
    "type": "object",
    "description": "Figures are null below the minimum number of responses.",
    "properties": {
        "n": {"type": "integer"},
        "rate": {"type": ["number", "null"]},
        "ci_low": {"type": ["number", "null"], "description": "95 % Wilson interval"},
        "ci_high": {"type": ["number", "null"]},
    },
}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DATE_PARAMS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string", "format": "date"},
        "description": "Inclusive calendar day in the office's time zone" + extra,
    }
    for name, extra in (("from", "; default 29 days before 'to'"), ("to", "; default today"))
]
OFFICE_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
MANAGER_SECURITY = [{"bearerToken": []}, {"sessionCookie": []}]


def openapi_document(server_url: str) -> dict:
    """Return the OpenAPI document for this deployment."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hài Lòng API",
            "version": "1",
            "description": "Citizen feedback at public service counters.",
        },
        "servers": [{"url": server_url + "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (create-token) or, for POST /responses, "
                    "a kiosk device token.",
                },
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "hailong_session"},
            },
            "schemas": {
                "Error": ERROR,
                "Rate": RATE,
                "ResponseIn": {
                    "type": "object",
                    "required": ["id", "target", "answers"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "Client-made; idempotency key",
                        },
                        "target": {"type": "string", "description": "Public survey code"},
                        "answers": {
                            "type": "object",
                            "additionalProperties": {
                                "oneOf": [
                                    {"type": "string"},
                                    {"type": "array", "items": {"type": "string"}},
                                ]
                            },
                            "description": "question key → choice key(s) or text",
                        },
                        "comment": {"type": "string", "maxLength": 1000},
                        "locale": {"type": "string", "enum": ["vi", "en"], "default": "vi"},
                        "submitted_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "With a zone; kiosks may send up to 7 days old",
                        },
                    },
                },
                "Survey": {
                    "type": "object",
                    "properties": {
                        "target": {"type": "string"},
                        "label": {"type": "string"},
                        "survey": {
                            "type": "object",
                            "properties": {
                                "key": {"type": "string"},
                                "version": {"type": "integer"},
                            },
                        },
                        "questions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "key": {"type": "string"},
                                    "kind": {
                                        "type": "string",
                                        "enum": ["scale", "choice", "multi", "text"],
                                    },
                                    "headline": {"type": "boolean"},
                                    "required": {"type": "boolean"},
                                    "text": TEXT,
                                    "max_length": {"type": ["integer", "null"]},
                                    "choices": {
                                        "type": "array",
                                        "description": "Best first",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "key": {"type": "string"},
                                                "polarity": {
                                                    "type": "string",
                                                    "enum": ["positive", "neutral", "negative"],
                                                },
                                                "text": TEXT,
                                            },
                                        },
                                    },
                                    "show_if": {
                                        "type": ["object", "null"],
                                        "properties": {
                                            "question": {"type": "string"},
                                            "polarity": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
                "Office": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "unit": {"type": "string"},
                        "timezone": {"type": "string"},
                        "target": {"type": ["string", "null"]},
                        "counters": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "code": {"type": "string"},
                                    "name": {"type": "string"},
                                    "target": {"type": ["string", "null"]},
                                },
                            },
                        },
                    },
                },
                "Summary": {
                    "type": "object",
                    "properties": {
                        "office": {"type": "string"},
                        "from": {"type": "string", "format": "date"},
                        "to": {"type": "string", "format": "date"},
                        "responses": {"type": "integer"},
                        "satisfaction": {"$ref": "#/components/schemas/Rate"},
                        "questions": {
                            "type": "object",
                            "additionalProperties": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/Rate"},
                                    {
                                        "type": "object",
                                        "properties": {
                                            "mean_score": {"type": ["number", "null"]},
                                            "counts": {
                                                "type": "object",
                                                "additionalProperties": {"type": "integer"},
                                            },
                                        },
                                    },
                                ]
                            },
                        },
                    },
                },
            },
        },
        "paths": {
            "/surveys/{code}": {
                "get": {
                    "summary": "The survey behind a public code, in both languages",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Survey"}),
                        "404": _error("Unknown or retired code"),
                    },
                }
            },
            "/responses": {
                "post": {
                    "summary": "Store one response (idempotent on id)",
                    "description": "Without Authorization: a phone response, rate-limited per IP. "
                    "With a kiosk device token it is a kiosk response for that kiosk's counter.",
                    "security": [{}, {"bearerToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ResponseIn"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "properties": {"id": {"type": "string", "format": "uuid"}},
                            },
                            "Stored, or the same id and body stored before",
                        ),
                        "400": _error("Invalid input; fields names each problem"),
                        "401": _error("Unknown or revoked device token"),
                        "403": _error("A kiosk posting for another counter"),
                        "404": _error("Unknown target"),
                        "422": _error("The id was used for a different body"),
                        "429": _error("Too many requests"),
                    },
                }
            },
            "/offices": {
                "get": {
                    "summary": "Offices the caller may see",
                    "security": MANAGER_SECURITY,
                    "responses": {
                        "200": _json(
                            {"type": "array", "items": {"$ref": "#/components/schemas/Office"}}
                        ),
                        "401": _error("Not signed in"),
                    },
                }
            },
            "/offices/{code}/summary": {
                "get": {
                    "summary": "Satisfaction and per-question figures for a date range",
                    "security": MANAGER_SECURITY,
                    "parameters": [OFFICE_CODE, *DATE_PARAMS],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Summary"}),
                        "400": _error("Bad date range"),
                        "401": _error("Not signed in"),
                        "403": _error("Outside the caller's scope"),
                        "404": _error("Unknown office"),
                    },
                }
            },
            "/offices/{code}/responses.csv": {
                "get": {
                    "summary": "One row per response, in the office's local time",
                    "security": MANAGER_SECURITY,
                    "parameters": [OFFICE_CODE, *DATE_PARAMS],
                    "responses": {
                        "200": {
                            "description": "CSV",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        "400": _error("Bad date range"),
                        "401": _error("Not signed in"),
                        "403": _error("Outside the caller's scope"),
                        "404": _error("Unknown office"),
                    },
                }
            },
        },
    }
