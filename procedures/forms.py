"""A procedure's form as JSON Schema (the contract's ``form_schema``) and its validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import fastjsonschema
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


def _message(error, fields: dict[str, FormField]) -> tuple[str, str]:
    """(field key, Vietnamese message a citizen can act on) for one schema error."""
    if error.validator == "required":
        key = error.message.split("'")[1]
        label = fields[key].label if key in fields else key
        return key, f"Vui lòng nhập: {label}."
    if not error.path:
        if error.validator == "additionalProperties":
            extra = error.message.split("'")[1] if "'" in error.message else ""
            return extra or "$", "Trường này không có trong tờ khai."
        return "$", "Tờ khai phải là một đối tượng JSON."
    key = str(error.path[0])
    f = fields.get(key)
    label = f.label if f else key
    match error.validator:
        case "format" if f and f.type == "date":
            return key, f"{label}: ngày không hợp lệ (định dạng yyyy-mm-dd)."
        case "format":
            return key, f"{label}: không đúng định dạng."
        case "pattern" if f and f.type == "cccd":
            return key, f"{label}: phải gồm đúng 12 chữ số."
        case "pattern" if f and f.type == "phone":
            return key, f"{label}: 10–11 chữ số, bắt đầu bằng 0 hoặc +84."
        case "pattern":
            return key, f"{label}: không đúng định dạng."
        case "enum":
            return key, f"{label}: hãy chọn một giá trị trong danh sách."
        case "type":
            kind = {"integer": "một số nguyên", "boolean": "có hoặc không", "string": "văn bản"}
            return key, f"{label}: phải là {kind.get(str(error.validator_value), 'giá trị hợp lệ')}."
        case "maxLength":
            return key, f"{label}: tối đa {error.validator_value} ký tự."
        case "minLength":
            return key, f"Vui lòng nhập: {label}."
        case "minimum":
            return key, f"{label}: không được nhỏ hơn {error.validator_value}."
        case "maximum":
            return key, f"{label}: không được lớn hơn {error.validator_value}."
    return key, f"{label}: giá trị không hợp lệ."


_FORMAT_CHECKER = FormatChecker()
#: fastjsonschema checks the forms' formats as jsonschema does (its own date format takes
#: digits of any script, "１９８５-06-15").
_FORMATS = {
    "date": lambda value: _FORMAT_CHECKER.conforms(value, "date"),
    "email": lambda value: _FORMAT_CHECKER.conforms(value, "email"),
}


class _FormValidators(NamedTuple):
    """A form's two validators of the same schema: fastjsonschema's, compiled to Python, says
    at once whether a form is valid (a tenth of jsonschema's time; most forms sent are valid);
    jsonschema's names every error of one that is not."""

    procedure: Procedure
    valid: Callable[[Any], Any]
    full: Draft202012Validator
    fields: dict[str, FormField]


#: Per procedure code. Building them (jsonschema's registry and resolver) was a tenth of a
#: submission's time.
_VALIDATORS: dict[str, _FormValidators] = {}


def _validators(p: Procedure) -> _FormValidators:
    known = _VALIDATORS.get(p.code)
    if known is None or known.procedure is not p:  # by identity: a reloaded catalogue is new
        schema = form_schema(p)
        known = _VALIDATORS[p.code] = _FormValidators(
            p,
            fastjsonschema.compile(schema, formats=_FORMATS),
            Draft202012Validator(schema, format_checker=_FORMAT_CHECKER),
            {f.key: f for f in p.form},
        )
    return known


def validate_form(p: Procedure, data: Any) -> dict[str, str]:
    """Field key → first error, in Vietnamese; empty when the form is valid."""
    form = _validators(p)
    try:
        form.valid(data)
    except fastjsonschema.JsonSchemaException:
        pass
    else:  # what it accepts, jsonschema accepts too (tests/unit/test_procedures_catalogue.py)
        return {}
    errors: dict[str, str] = {}
    for error in form.full.iter_errors(data):
        key, message = _message(error, form.fields)
        errors.setdefault(key, message)
    return errors
