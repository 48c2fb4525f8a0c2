#!/usr/bin/env python3
"""Check a real response body against the OpenAPI 3.1 description.

Usage: openapi-check.py OPENAPI.json PATH METHOD STATUS BODY.json
The schema of that response (PATH METHOD STATUS, application/json) is looked
up in the document and the body validated against it (JSON Schema 2020-12,
$ref within the document). Exit 0 when valid; else the errors on stderr.
"""
import json
import sys

import jsonschema


def esc(part):
    return part.replace("~", "~0").replace("/", "~1")


def main():
    doc_path, path, method, status, body_path = sys.argv[1:6]
    with open(doc_path) as f:
        doc = json.load(f)
    with open(body_path) as f:
        body = json.load(f)
    op = doc["paths"].get(path, {}).get(method.lower())
    if op is None and int(status) >= 400:
        # a method or path the API does not have: every error has the one shape
        op = {"responses": {status: {"$ref": "#/components/responses/Error"}}}
    if op is None or status not in op["responses"]:
        sys.exit("%s %s: status %s is not described" % (method, path, status))
    pointer = "#/paths/%s/%s/responses/%s" % (esc(path), method.lower(), status)
    resp = op["responses"][status]
    if "$ref" in resp:
        pointer = resp["$ref"]
        resp = doc
        for part in pointer[2:].split("/"):
            resp = resp[part.replace("~1", "/").replace("~0", "~")]
    if "schema" not in resp.get("content", {}).get("application/json", {}):
        sys.exit("%s %s %s: no JSON schema described" % (method, path, status))
    root = dict(doc)
    root["$ref"] = pointer + "/content/application~1json/schema"
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    for e in errors:
        print("%s %s %s: %s at %s" % (method, path, status, e.message, list(e.path)), file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
