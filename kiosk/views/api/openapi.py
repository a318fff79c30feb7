"""The OpenAPI 3.1 document, assembled from what each API view declares about itself.

A view is decorated with ``@operation(...)``, naming its path, its request body model, its query
model and the model of each answer; the JSON schemas come from those pydantic models
(kiosk/views/api/schemas.py), the same ones that validate requests. Nothing here restates a
field by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kiosk.views.api.schemas import ErrorBody, MintBody

REF = "#/components/schemas/{model}"
#: Manager endpoints: an API token, or the dashboard's session cookie.
MANAGER = ({"bearerToken": []}, {"sessionCookie": []})
DEVICE = ({"bearerToken": []},)


@dataclass(frozen=True)
class Answer:
    """One documented answer of an operation."""

    description: str
    model: type[BaseModel] | None = None
    #: Another media type and a schema for it (the CSV export).
    media_type: str = "application/json"
    schema: dict | None = None
    #: Headers this answer carries, name → description.
    headers: dict[str, str] = field(default_factory=dict)
    #: A JSON array of ``model``.
    many: bool = False


def error(description: str, **headers: str) -> Answer:
    return Answer(description, ErrorBody, headers=headers)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    answers: dict[int, Answer]
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    #: Alternatives; ``({},)`` plus others means anonymous callers are welcome too.
    security: tuple[dict, ...] = ()


OPERATIONS: list[Operation] = []


def operation(**declared: Any) -> Callable:
    """Declare a view as an API operation; it is listed in the document as declared."""
    OPERATIONS.append(Operation(**declared))

    def register(view: Callable) -> Callable:
        return view

    return register


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [ErrorBody]
    for op in OPERATIONS:
        for model in (op.body, op.query, *(a.model for a in op.answers.values())):
            if model is not None and model not in found:
                found.append(model)
    return found


def _parameters(op: Operation, schemas: dict) -> list[dict]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in op.path_params.items()
    ]
    if op.query is not None:
        query = schemas[op.query.__name__]
        for name, schema in query.get("properties", {}).items():
            schema = {k: v for k, v in schema.items() if k not in ("title", "default")}
            description = schema.pop("description", "")
            options = schema.pop("anyOf", None)
            if options:  # "X | None": a query parameter is simply left out instead of null
                schema.update(next(o for o in options if o.get("type") != "null"))
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in query.get("required", []),
                    "schema": schema,
                    "description": description,
                }
            )
    return parameters


def _answer(answer: Answer) -> dict:
    result: dict[str, Any] = {"description": answer.description}
    if answer.model is not None:
        schema = {"$ref": REF.format(model=answer.model.__name__)}
        if answer.many:
            schema = {"type": "array", "items": schema}
        result["content"] = {answer.media_type: {"schema": schema}}
    elif answer.schema is not None:
        result["content"] = {answer.media_type: {"schema": answer.schema}}
    if answer.headers:
        result["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in answer.headers.items()
        }
    return result


def openapi_document(server_url: str, *, ticket_max: int) -> dict:
    """Return the OpenAPI document of this deployment (its URL and ticket limit)."""
    models = _models()
    _, top = models_json_schema(
        [
            (m, "validation" if m in {op.body for op in OPERATIONS} else "serialization")
            for m in models
        ],
        ref_template=REF,
    )
    schemas: dict = top.get("$defs", {})
    # The one limit that is a setting: written in as this deployment has it.
    schemas[MintBody.__name__]["properties"]["count"]["maximum"] = ticket_max
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{op.method}_{op.path.strip('/').replace('/', '_')}".replace("{", "")
            .replace("}", "")
            .replace(".", "_")
            .replace("-", "_"),
            "responses": {str(status): _answer(a) for status, a in sorted(op.answers.items())},
        }
        if op.description:
            entry["description"] = op.description
        if op.security:
            entry["security"] = list(op.security)
        parameters = _parameters(op, schemas)
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}
                },
            }
        paths.setdefault(op.path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hài Lòng API",
            "version": "1",
            "description": "Citizen feedback at public service counters. Errors are "
            '{"error": {"code", "message", "fields"}}; each field names a machine reason.',
        },
        "servers": [{"url": server_url + "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (create-token), or a kiosk's device token.",
                },
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "hailong_session"},
            },
            "schemas": schemas,
        },
        "paths": paths,
    }
