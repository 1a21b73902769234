"""OAuth for partner integrations: authorize, token (JSON and form-encoded), token info, revoke.

These need an OAuth client (``SUNCO_OAUTH_CLIENT_ID``, ``SUNCO_OAUTH_CLIENT_SECRET``,
``SUNCO_OAUTH_REDIRECT_URI``); a live run without one reports them as not run. Against Zendesk,
Authorize leads a browser through sign-in and consent before it redirects back with a code, so
the flow goes past Authorize only where the redirect carries a code at once (the sandbox);
elsewhere it reports why it stopped. Access tokens and codes never reach a cassette: the scrubber
replaces them by structure, and replay re-sends the placeholders it recorded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import strategies as st

from conformance.contract.schemas import Contract
from conformance.model import Exchange, Expect, FormBody, RawBody, Variant
from conformance.session.session import ConformanceSession
from conformance.transport.settings import OAUTH_VARIABLES, OAuthClient
from conformance.variants import negative
from conformance.variants.strategies import hex_id, safe_text

CLIENT = f"an OAuth client ({', '.join(OAUTH_VARIABLES)})"
GRANT = "authorization_code"


def _client(sunco: ConformanceSession) -> OAuthClient | None:
    client: OAuthClient | None = sunco.live_setting("oauth", CLIENT)
    return client


def _authorize(label: str, query: dict[str, str], expect: Expect) -> Variant:
    return Variant(label, None, expect, params={"query": query})


def authorize_variants(client: OAuthClient | None) -> st.SearchStrategy[list[Variant]]:
    """Every documented way to start the flow, and each parameter the flow refuses."""
    if client is None:
        return st.nothing()  # replay: the pinned variants are read, never drawn
    base = {"client_id": client.client_id, "response_type": "code"}
    found = Expect(302)
    return st.tuples(safe_text(8, 16), hex_id()).map(
        lambda drawn: [
            _authorize(
                "code with state and redirect_uri",
                {**base, "state": drawn[0], "redirect_uri": client.redirect_uri},
                found,
            ),
            _authorize("code without state", {**base, "redirect_uri": client.redirect_uri}, found),
            _authorize("code to the client's own redirect URI", {**base, "state": drawn[0]}, found),
            _authorize(
                "response_type token",
                {**base, "response_type": "token", "state": drawn[0], "redirect_uri": client.redirect_uri},
                found,
            ),
            _authorize("unknown client_id", {**base, "client_id": drawn[1]}, Expect(400, "invalid_client")),
            _authorize(
                "unregistered redirect_uri",
                {**base, "redirect_uri": "https://unregistered.example.org/cb"},
                Expect(400, "invalid_request"),
            ),
            _authorize("without client_id", {"response_type": "code"}, Expect(400, "bad_request")),
            _authorize("without response_type", {"client_id": client.client_id}, Expect(400, "bad_request")),
        ]
    )


def redirect_params(exchange: Exchange) -> dict[str, str]:
    """The query of a redirect's Location (a code, a state, an error)."""
    location = next((str(v) for k, v in exchange.headers.items() if k.lower() == "location"), "")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def test_authorize_redirects_with_a_code_and_the_state_sent(sunco: ConformanceSession) -> None:
    """Each start of the flow answers 302; a Location that carries a code carries the state sent,
    and only a response_type of code ever gets one. Bad client ids and redirect URIs get no redirect."""
    for variant in sunco.variants("authorize", authorize_variants(_client(sunco)), 8):
        exchange = sunco.call("Authorize", variant=variant, authenticate=False)
        if exchange.status != 302:
            continue
        sent, back = variant.params["query"], redirect_params(exchange)
        if sent.get("response_type") != "code":
            sunco.expect_state(
                exchange,
                "code" not in back,
                title="handed out a code for a response_type other than code.",
                pointer="Location",
                rule="only response_type=code starts the authorization code flow",
                expected="no code",
                actual=sorted(back),
                variant=variant.id,
            )
        elif "code" in back:
            sunco.expect_state(
                exchange,
                back.get("state") == sent.get("state"),
                title="redirected with a code but not with the state sent.",
                pointer="Location",
                rule="the redirect carries the state the request sent (RFC 6749 section 4.1.2)",
                expected=sent.get("state"),
                actual=back.get("state"),
                variant=variant.id,
            )
    sunco.finish()


def as_form(body: Any) -> FormBody:
    return FormBody(tuple((name, str(value)) for name, value in body.items()))


def token_body(client: OAuthClient, code: str, **change: str) -> dict[str, str]:
    return {
        "code": code,
        "grant_type": GRANT,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        **change,
    }


def refused_token_variants(client: OAuthClient | None, contract: Contract) -> st.SearchStrategy[list[Variant]]:
    """Token requests the API must refuse, as JSON and as forms: bad client, bad code, bad body."""
    if client is None:
        return st.nothing()

    def build(code: str) -> list[Variant]:
        good = token_body(client, code)
        token_json = str(contract.operation("GetToken").request)
        missing = [(label, body) for label, body in negative.missing_required(token_json, good, contract)]
        bad = Expect(400, "bad_request")
        return [
            Variant(
                "JSON with a wrong client_secret",
                token_body(client, code, client_secret=code),
                Expect(401, "invalid_client"),
            ),
            Variant(
                "form with a wrong client_secret",
                as_form(token_body(client, code, client_secret=code)),
                Expect(401, "invalid_client"),
            ),
            Variant("JSON with a code never issued", good, Expect(400, "invalid_grant")),
            Variant("form with a code never issued", as_form(good), Expect(400, "invalid_grant")),
            Variant("JSON with grant_type client_credentials", {**good, "grant_type": "client_credentials"}, bad),
            Variant("form with grant_type refresh_token", as_form({**good, "grant_type": "refresh_token"}), bad),
            *(Variant(f"JSON {label}", body, bad) for label, body in missing),
            *(Variant(f"form {label}", as_form(body), bad) for label, body in missing),
            Variant("body that is not JSON", RawBody('{"grant_type": "authorization_code"'), bad),
            Variant("plain text", RawBody("code=1", "text/plain"), Expect(415, "unsupported_media_type")),
        ]

    return hex_id().map(build)


def test_get_token_refuses_bad_clients_codes_and_bodies(sunco: ConformanceSession) -> None:
    """RFC 6749's refusals, in the API's error envelope, whether the request is JSON or a form."""
    for variant in sunco.variants("refused", refused_token_variants(_client(sunco), sunco.contract), 18):
        sunco.call("GetToken", variant=variant, authenticate=False)
    sunco.finish()


# How each credential check authenticates: not at all, with a bearer token that is none, or with the app key.
CREDENTIALS: dict[str, dict[str, Any]] = {
    "without credentials": {"authenticate": False},
    "with a bearer token that is no token": {"authorization": "Bearer not-a-token"},
    "with the app key": {},
}


def test_oauth_endpoints_require_an_integration_token(sunco: ConformanceSession) -> None:
    """Token info and revoke need the integration's token: none or a bogus one is 401, and an
    app key (app scope) may not revoke an integration's access (403)."""
    unauthorized = Expect(401, "unauthorized")
    checks = st.just(
        [
            Variant("GetTokenInfo without credentials", None, unauthorized),
            Variant("RevokeAccess without credentials", None, unauthorized),
            Variant("RevokeAccess with a bearer token that is no token", None, unauthorized),
            Variant("RevokeAccess with the app key", None, Expect(403, "forbidden")),
        ]
    )
    for variant in sunco.variants("credentials", checks, 4):
        operation_id, _, how = variant.label.partition(" ")
        sunco.call(operation_id, variant=variant, **CREDENTIALS[how])
    sunco.finish()


def _code(sunco: ConformanceSession, variant: Variant) -> str:
    exchange = sunco.call("Authorize", variant=variant, authenticate=False)
    code = redirect_params(exchange).get("code")
    if code is None and exchange.status == 302:
        sunco.finish()
        sunco.not_run(
            "not run live: Authorize redirected to a sign-in or consent page (a browser step), not back with a code"
        )
    return sunco.require(code, "a code in Authorize's redirect", variant)


def _token(exchange: Exchange) -> str | None:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    token = body.get("access_token")
    return f"Bearer {token}" if isinstance(token, str) and token else None


def token_variants(client: OAuthClient | None, codes: list[str]) -> st.SearchStrategy[list[Variant]]:
    if client is None:
        return st.nothing()
    return st.just(
        [
            Variant("the first code, as JSON", token_body(client, codes[0]), Expect(200)),
            Variant("the second code, form-encoded (RFC 6749)", as_form(token_body(client, codes[1])), Expect(200)),
            Variant("the first code again", token_body(client, codes[0]), Expect(400, "invalid_grant")),
        ]
    )


def test_oauth_authorize_token_token_info_revoke(sunco: ConformanceSession) -> None:
    """Authorize twice, exchange one code as JSON and one as a form, use a code twice, read the
    app with each token, revoke, and see both tokens stop working."""
    client = _client(sunco)
    starts = sunco.variants(
        "start",
        st.tuples(safe_text(8, 16), safe_text(8, 16)).map(
            lambda states: [
                _authorize(
                    f"start {n + 1}",
                    {
                        "client_id": client.client_id,
                        "response_type": "code",
                        "state": state,
                        "redirect_uri": client.redirect_uri,
                    },
                    Expect(302),
                )
                for n, state in enumerate(states)
            ]
        )
        if client is not None
        else st.nothing(),
        2,
    )
    codes = [_code(sunco, variant) for variant in starts]
    tokens: list[str] = []
    for variant in sunco.variants("token", token_variants(client, codes), 3):
        exchange = sunco.call("GetToken", variant=variant, authenticate=False)
        if variant.expect.status == 200:
            tokens.append(sunco.require(_token(exchange), "an access token", variant))
    apps = []
    info: Exchange | None = None
    for token in tokens:
        info = sunco.call("GetTokenInfo", authorization=token, expect=Expect(200))
        app = (info.body or {}).get("app") if isinstance(info.body, dict) else None
        apps.append(sunco.require((app or {}).get("id"), "the token's app id"))
    sunco.expect_state(
        info,
        len(set(apps)) == 1,
        title="named different apps for tokens of the same client and consent.",
        pointer="/app/id",
        rule="a token reads the app that granted it",
        expected=apps[:1],
        actual=apps,
    )
    sunco.call(
        "GetUser",
        path_params={"appId": apps[0], "userIdOrExternalId": "conformance-no-such-user"},
        authorization=tokens[0],
        expect=Expect(404, "user_not_found"),
    )
    sunco.call("RevokeAccess", authorization=tokens[0], expect=Expect(200))
    for token in tokens:
        sunco.call("GetTokenInfo", authorization=token, expect=Expect(401, "unauthorized"))
    sunco.call("RevokeAccess", authorization=tokens[0], expect=Expect(401, "unauthorized"))
    sunco.finish()
