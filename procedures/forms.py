"""A procedure's form as JSON Schema (the contract's ``form_schema``) and its validation."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from procedures.schema import FormField, Procedure

CCCD_PATTERN = r"^\d{12}$"
PHONE_PATTERN = r"^(\+84|0)\d{9,10}$"


def field_schema(f: FormField) -> dict[str, Any]:
    s: dict[str, Any] = {"title": f.label}
    if f.help:
        s["description"] = f.help
    match f.type:
        case "text" | "textarea":
            s.update(type="string", maxLength=f.max_length)
            if f.required:
                s["minLength"] = 1
            if f.pattern:
                s["pattern"] = f.pattern
        case "date":
            s.update(type="string", format="date")
        case "integer" | "money":
            s["type"] = "integer"
            if f.minimum is not None:
                s["minimum"] = f.minimum
            elif f.type == "money":
                s["minimum"] = 0
            if f.maximum is not None:
                s["maximum"] = f.maximum
        case "email":
            s.update(type="string", format="email", maxLength=254)
        case "phone":
            s.update(type="string", pattern=PHONE_PATTERN)
        case "cccd":
            s.update(type="string", pattern=CCCD_PATTERN)
        case "select":
            s.update(type="string", enum=list(f.options))
        case "boolean":
            s["type"] = "boolean"
    s["x-widget"] = f.type
    if f.group:
        s["x-group"] = f.group
    return s


def form_schema(p: Procedure) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": p.name,
        "type": "object",
        "additionalProperties": False,
        "properties": {f.key: field_schema(f) for f in p.form},
        "required": [f.key for f in p.form if f.required],
    }


def validate_form(p: Procedure, data: dict[str, Any]) -> dict[str, str]:
    """Field key → first error message (English, for logs); empty when valid."""
    validator = Draft202012Validator(form_schema(p), format_checker=FormatChecker())
    errors: dict[str, str] = {}
    for error in validator.iter_errors(data):
        if error.validator == "required":
            key = error.message.split("'")[1]
        elif error.path:
            key = str(error.path[0])
        else:
            key = "$"
        errors.setdefault(key, error.message)
    return errors
