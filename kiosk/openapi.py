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

NAMED = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}
KIOSK_STATE = {
    "type": "object",
    "required": ["status", "server_time", "officer", "counter", "office"],
    "properties": {
        "status": {"type": "string", "enum": ["ok"]},
        "server_time": {"type": "string", "format": "date-time", "description": "UTC, with Z"},
        "officer": {
            "oneOf": [NAMED, {"type": "null"}],
            "description": "Signed in on this kiosk now; null when nobody is (ratings then count "
            "for the counter and office only)",
        },
        "counter": NAMED,
        "office": {
            "type": "object",
            "required": ["code", "name", "closes_at"],
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "closes_at": {
                    "type": "string",
                    "pattern": "^[0-2][0-9]:[0-5][0-9]$",
                    "description": "Local closing time, HH:MM; officers are signed out then",
                },
            },
        },
    },
}
KIOSK_SECURITY = [{"bearerToken": []}]
KIOSK_401 = _error("No, unknown or revoked device token (unknown_device): show 'not connected'")
KIOSK_PATHS = {
    "/kiosk/heartbeat": {
        "post": {
            "summary": "A kiosk reports its health (every minute) and learns its state",
            "security": KIOSK_SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["app_version", "queue_depth"],
                            "description": "Unknown fields are ignored.",
                            "properties": {
                                "app_version": {
                                    "type": "string",
                                    "minLength": 1,
                                    "description": "Cut to 32 characters",
                                },
                                "queue_depth": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "description": "Ratings waiting on the tablet",
                                },
                                "oldest_queued_at": {
                                    "type": ["string", "null"],
                                    "format": "date-time",
                                    "description": "submitted_at of the oldest waiting rating, "
                                    "with a zone",
                                },
                                "last_error": {
                                    "type": ["string", "null"],
                                    "description": "Cut to 500 characters",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(KIOSK_STATE),
                "400": _error("Not a JSON object, or bad values; fields names each"),
                "401": KIOSK_401,
            },
        }
    },
    "/kiosk/state": {
        "get": {
            "summary": "The kiosk's counter, office and officer on duty (no heartbeat recorded)",
            "security": KIOSK_SECURITY,
            "responses": {"200": _json(KIOSK_STATE), "401": KIOSK_401},
        }
    },
    "/kiosk/officer/sign-in": {
        "post": {
            "summary": "An officer of this kiosk's office signs in for a shift",
            "description": "With officer code and PIN, or with the secret of their badge QR. "
            "Whoever was signed in on this kiosk is signed out, and so is this officer on any "
            "other kiosk. Rate-limited per kiosk.",
            "security": KIOSK_SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {
                                    "type": "object",
                                    "required": ["officer", "pin"],
                                    "properties": {
                                        "officer": {"type": "string"},
                                        "pin": {"type": "string", "pattern": "^[0-9]{4,8}$"},
                                    },
                                },
                                {
                                    "type": "object",
                                    "required": ["badge"],
                                    "properties": {"badge": {"type": "string"}},
                                },
                            ]
                        }
                    }
                },
            },
            "responses": {
                "200": _json(
                    {"type": "object", "required": ["officer"], "properties": {"officer": NAMED}}
                ),
                "400": _error("Neither officer and PIN nor badge, or not text"),
                "401": _error(
                    "wrong_credentials: wrong code, PIN or badge, an inactive officer or one "
                    "of another office (never says which); or unknown_device"
                ),
                "429": _error("Too many attempts from this kiosk"),
            },
        }
    },
    "/kiosk/officer/sign-out": {
        "post": {
            "summary": "Sign out whoever is on duty on this kiosk",
            "security": KIOSK_SECURITY,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["officer"],
                        "properties": {"officer": {"type": "null"}},
                    }
                ),
                "401": KIOSK_401,
            },
        }
    },
}


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
                        "ticket": {
                            "type": "string",
                            "description": "A one-time ticket code: the response is verified "
                            "and 'target' may be left out",
                        },
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
                        "404": _error("Unknown target or ticket"),
                        "409": _error(
                            "The ticket was already used (ticket_used) or has expired "
                            "(ticket_expired)"
                        ),
                        "422": _error("The id was used for a different body"),
                        "429": _error(
                            "Too many requests, or this phone already rated this code "
                            "within the window (already_answered)"
                        ),
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
            "/tickets": {
                "post": {
                    "summary": "Mint one-time tickets for an office (queue-number systems)",
                    "description": "An API token of an administrator or manager whose scope holds "
                    "the office. Each ticket opens the survey of its counter, else of its office, "
                    "and carries one verified response.",
                    "security": [{"bearerToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["office"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "office": {"type": "string"},
                                        "counter": {"type": ["string", "null"]},
                                        "officer": {"type": ["string", "null"]},
                                        "service": {"type": ["string", "null"], "maxLength": 200},
                                        "count": {
                                            "type": "integer",
                                            "minimum": 1,
                                            "default": 1,
                                            "description": "At most TICKET_MAX_PER_REQUEST (500)",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "tickets": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "code": {"type": "string"},
                                                "url": {"type": "string", "format": "uri"},
                                                "expires_at": {
                                                    "type": "string",
                                                    "format": "date-time",
                                                },
                                            },
                                        },
                                    }
                                },
                            },
                            "Minted",
                        ),
                        "400": _error("Invalid input, or a counter/officer not of the office"),
                        "401": _error("No or unknown API token"),
                        "403": _error("Office outside the caller's scope, or a viewer"),
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
            **KIOSK_PATHS,
        },
    }
