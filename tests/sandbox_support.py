"""Shared helpers for the sandbox tests: minimal bodies, checked answers and an operationId client.

Every answer goes through ``checked``, which holds it to the schema its operation documents for
that status (the error envelope for an undocumented error) and to the writeOnly rule.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from conformance.contract.schemas import shipped
from conformance.sandbox import Sandbox

JSON_TYPE = "application/json; charset=utf-8"
ERROR_SCHEMA = "components/errorResponse.json"
HEX24 = re.compile(r"^[0-9a-f]{24}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
OTHER_ID = "0123456789abcdef01234567"
MISSING = object()

# The smallest body each type accepts, plus any write-only fields it can carry.
MINIMAL: dict[str, dict[str, Any]] = {
    "android": {"projectId": "p-1", "clientEmail": "fcm@example.com", "privateKey": "-----KEY-----"},
    "apple": {"businessId": "b-1", "apiSecret": "api-secret", "mspId": "msp-1"},
    "custom": {"webhooks": [{"target": "https://example.com/hook", "triggers": ["conversation:message"]}]},
    "instagram": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
    "ios": {"certificate": "base64-cert", "password": "cert-password"},
    "line": {},
    "mailgun": {"apiKey": "key-1", "domain": "mail.example.com", "incomingAddress": "in@mail.example.com"},
    "messagebird": {"accessKey": "access", "signingKey": "signing", "originator": "12345"},
    "messenger": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
    "telegram": {"token": "bot-token"},
    "twilio": {"accountSid": "AC0123", "authToken": "auth-token"},
    "twitter": {
        "tier": "enterprise",
        "consumerKey": "ck",
        "consumerSecret": "cs",
        "accessTokenKey": "atk",
        "accessTokenSecret": "ats",
    },
    "unity": {},
    "viber": {"token": "viber-token"},
    "web": {"defaultResponderId": "responder-1"},
    "whatsapp": {},
}


def body_of(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, **MINIMAL[kind], **extra}


def checked(operation_id: str | None, response: requests.Response) -> Any:
    """The JSON body, after checking it against what the operation documents for the status."""
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    status = response.status_code
    ref = shipped().operation(operation_id).response_schema(status) if operation_id else None
    if ref is None:
        assert status >= 400, f"{operation_id} answered {status}, which it does not document"
        ref = ERROR_SCHEMA
    errors = [error.message for error in shipped().validator(ref).iter_errors(body)]
    assert errors == [], f"{operation_id} {status} breaks {ref}: {errors}"
    if status < 400:
        assert shipped().annotated_pointers(ref, body) == [], "a write-only field came back"
    return body


class Api:
    """Calls by operationId against one sandbox, every answer checked."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.auth: Any = (sandbox.key_id, sandbox.key_secret)

    def url(self, operation_id: str, **params: str) -> str:
        op = shipped().operation(operation_id)
        return self.sandbox.url + op.path.format(**{"appId": self.sandbox.app_id, **params})

    def call(
        self,
        operation_id: str,
        *,
        body: Any = MISSING,
        data: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = MISSING,
        **params: str,
    ) -> tuple[int, Any]:
        response = requests.request(
            shipped().operation(operation_id).method,
            self.url(operation_id, **params),
            json=None if body is MISSING else body,
            data=data,
            params=query,
            headers=headers,
            auth=self.auth if auth is MISSING else auth,
            timeout=10,
        )
        return response.status_code, checked(operation_id, response)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = self.call("CreateIntegration", body=body)
        assert status == 201, answer
        return answer["integration"]

    def list(self, **query: str) -> tuple[int, Any]:
        return self.call("ListIntegrations", query=query)


def titles(answer: Any) -> list[str]:
    return [error["title"] for error in answer["errors"]]


def codes(answer: Any) -> list[str]:
    return [error["code"] for error in answer["errors"]]
