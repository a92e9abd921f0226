"""What the OpenAPI document says beyond what Powertools derives from the routes: response
bodies, problem details and the XML request body."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "requestId": {"type": "string"},
            "line": {"type": "integer"},
            "column": {"type": "integer"},
            "failure": {"$ref": "#/components/schemas/Failure"},
        },
    },
    "Failure": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "cause": {"type": "string"},
            "group": {"type": "integer"},
            "groupName": {"type": "string"},
            "task": {"type": "string"},
            "exitCode": {"type": ["integer", "null"]},
            "stderrTail": {"type": "string"},
            "attempts": {"type": "integer"},
            "at": {"type": "string"},
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["requestId", "status", "links"],
        "properties": {
            "requestId": {"type": "string"},
            "status": {"type": "string"},
            "links": {
                "type": "object",
                "properties": {"status": {"type": "string"}, "results": {"type": "string"}},
            },
        },
    },
    "Status": {
        "type": "object",
        "required": ["requestId", "status", "groups", "createdAt", "updatedAt", "execution"],
        "properties": {
            "requestId": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["received", "started", "running", "succeeded", "failed"],
            },
            "currentGroup": {"type": ["integer", "null"]},
            "groups": {"type": "array", "items": {"$ref": "#/components/schemas/GroupStatus"}},
            "createdAt": {"type": "string"},
            "updatedAt": {"type": "string"},
            "execution": {
                "type": "object",
                "properties": {
                    "arn": {"type": ["string", "null"]},
                    "consoleUrl": {"type": ["string", "null"]},
                },
            },
            "links": {"type": "object"},
        },
    },
    "GroupStatus": {
        "type": "object",
        "properties": {
            "index": {"type": "integer"},
            "name": {"type": "string"},
            "status": {"type": "string"},
            "tasksTotal": {"type": "integer"},
            "tasksSucceeded": {"type": "integer"},
            "tasksFailed": {"type": "integer"},
        },
    },
    "Upload": {
        "type": "object",
        "required": ["uploadId", "url", "method"],
        "properties": {
            "uploadId": {"type": "string"},
            "url": {"type": "string"},
            "method": {"type": "string"},
            "headers": {"type": "object"},
            "maxBytes": {"type": "integer"},
            "expiresInSeconds": {"type": "integer"},
        },
    },
    "Health": {
        "type": "object",
        "properties": {"status": {"type": "string"}, "checks": {"type": "object"}},
    },
}

XML_DOCUMENT = {"application/xml": {"schema": {"type": "string"}}}


def json_body(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Add the schemas and the XML request body Powertools cannot derive, and describe invalid
    parameters as the API answers them: 400 problem details, not Powertools' 422."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
            if operation.get("parameters"):
                responses.setdefault("400", problem("invalid parameters"))
    document["paths"]["/valuation"]["post"]["requestBody"] = {
        "required": False,
        "description": "The valuation request (omit it when X-Upload-Id names an upload)",
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "text/xml": {"schema": {"type": "string"}},
        },
    }
    return document
