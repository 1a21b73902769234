"""What a fresh sandbox holds that the API itself cannot create.

Devices and ``sdk`` clients come from SDK logins, a ``zendeskId`` from a help center sign-in,
and an OAuth client from Zendesk's partner programme; none has a v2 operation. So a sandbox
starts with one user who has signed in through the Web SDK via the help center (an ``sdk``
client, two web devices, a ``zendeskId``), a second linked user, the Zendesk Support users they
sync from, and one OAuth client. Ids are fixed, not drawn from the seeded id sequence, so
seeding never shifts the ids a recording sees.

A live run names its own such things with ``SUNCO_SDK_USER_ID``, ``SUNCO_ZENDESK_ID`` and the
``SUNCO_OAUTH_*`` settings; ``python -m conformance sandbox`` prints this sandbox's values for them, and
``record-sandbox`` passes them to the run it starts.
"""

from __future__ import annotations

from typing import Any

from conformance.sandbox.store import Store

# A user who signed in through the Web SDK, via the help center: devices, an sdk client, a zendeskId.
SDK_USER_ID = "5a4db0c5a4db0c5a4db0c5c1"
SDK_CLIENT_ID = "5a4db0c5a4db0c5a4db0c5c2"
SDK_DEVICE_IDS = ("5a4db0c5a4db0c5a4db0c5c3", "5a4db0c5a4db0c5a4db0c5c4")
# The web integration the SDK signed in through. The sandbox does not list it among the app's
# integrations, so integration tests start from an empty app.
WEB_INTEGRATION_ID = "5a4db0c5a4db0c5a4db0c5c5"
ZENDESK_ID = "8100000000001"
# A second messaging user linked to a Zendesk user, to merge with (survivingZendeskId).
OTHER_USER_ID = "5a4db0c5a4db0c5a4db0c5c6"
OTHER_ZENDESK_ID = "8100000000002"
# A Zendesk user with no messaging user yet: a merge into it relinks the messaging user.
UNLINKED_ZENDESK_ID = "8100000000003"

OAUTH_CLIENT_ID = "5a4db0c5a4db0c5a4db0c5d1"
OAUTH_CLIENT_SECRET = "sandbox-oauth-secret-do-not-use-in-production"  # noqa: S105 - a fixed, public test value
# Never reached: the harness reads a redirect, it does not follow it.
OAUTH_REDIRECT_URI = "https://example.com/oauth/callback"
OAUTH_REDIRECT_URIS = (OAUTH_REDIRECT_URI, "https://example.com/oauth/other-callback")

# The Zendesk Support users (the "core" users messaging users sync from), by Support user id.
ZENDESK_USERS: dict[str, dict[str, str]] = {
    ZENDESK_ID: {
        "givenName": "Ada",
        "surname": "Lovelace",
        "externalId": "zd-8100000000001",
        "email": "ada.lovelace@example.com",
    },
    OTHER_ZENDESK_ID: {
        "givenName": "Charles",
        "surname": "Babbage",
        "externalId": "zd-8100000000002",
        "email": "charles.babbage@example.com",
    },
    UNLINKED_ZENDESK_ID: {
        "givenName": "Mary",
        "surname": "Somerville",
        "externalId": "zd-8100000000003",
        "email": "mary.somerville@example.com",
    },
}
ZENDESK_DIRECTORY = ("zendeskUser",)
OAUTH_CLIENTS = ("oauthClient",)


def _users(app_id: str) -> list[dict[str, Any]]:
    # Out of date on purpose (a surname changed in Support since), so a sync has something to do.
    return [
        {
            "id": SDK_USER_ID,
            "externalId": "sdk-visitor-1",
            "zendeskId": ZENDESK_ID,
            "authenticated": True,
            "signedUpAt": "2025-01-28T17:59:58.331Z",
            "profile": {"givenName": "Ada", "surname": "Byron", "locale": "en-GB"},
            "metadata": {"plan": "premium"},
            "identities": [],
        },
        {
            "id": OTHER_USER_ID,
            "externalId": "sdk-visitor-2",
            "zendeskId": OTHER_ZENDESK_ID,
            "authenticated": True,
            "signedUpAt": "2025-01-29T09:12:00.000Z",
            "profile": {"givenName": "Charles", "locale": "en-GB"},
            "metadata": {},
            "identities": [],
        },
    ]


def _device(device_id: str, guid: str, status: str, last_seen: str, browser: str) -> dict[str, Any]:
    return {
        "id": device_id,
        "guid": guid,
        "clientId": SDK_CLIENT_ID,
        "integrationId": WEB_INTEGRATION_ID,
        "type": "web",
        "status": status,
        "lastSeen": last_seen,
        "pushNotificationToken": None,
        "appVersion": None,
        "info": {"browserLanguage": "en-GB", "sdkVersion": "0.1", "vendor": "zendesk", "userAgent": browser},
    }


def seed_users(store: Store, app_id: str) -> None:
    """The Support directory, the linked users, and the SDK user's client and devices."""
    for zendesk_id, person in ZENDESK_USERS.items():
        store.insert(ZENDESK_DIRECTORY, {"id": zendesk_id, **person})
    for user in _users(app_id):
        store.insert(("user", app_id), user)
    store.insert(
        ("client", app_id, SDK_USER_ID),
        {
            "id": SDK_CLIENT_ID,
            "type": "sdk",
            "status": "active",
            "integrationId": WEB_INTEGRATION_ID,
            "externalId": None,
            "lastSeen": "2025-01-28T17:59:58.331Z",
            "linkedAt": None,
            "displayName": "Ada",
            "info": {"currentUrl": "https://example.com/help", "browserLanguage": "en-GB"},
            "raw": None,
        },
    )
    # Stored oldest first; ListDevices answers by last seen, most recent first.
    devices = (
        _device(
            SDK_DEVICE_IDS[1], "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "inactive", "2025-01-20T08:00:00.000Z", "Firefox"
        ),
        _device(SDK_DEVICE_IDS[0], "f1c7abea2d49429db10094be820d5f80", "active", "2025-01-28T17:59:58.331Z", "Chrome"),
    )
    for device in devices:
        store.insert(("device", app_id, SDK_USER_ID), device)


def seed_oauth(store: Store, app_id: str) -> None:
    """The OAuth client a partner integration authorizes with."""
    store.insert(
        OAUTH_CLIENTS,
        {"id": OAUTH_CLIENT_ID, "secret": OAUTH_CLIENT_SECRET, "redirectUris": list(OAUTH_REDIRECT_URIS)},
    )


def live_settings() -> dict[str, str]:
    """The ``SUNCO_*`` settings that name the seeded things, for a run against a sandbox."""
    return {
        "SUNCO_SDK_USER_ID": SDK_USER_ID,
        "SUNCO_ZENDESK_ID": ZENDESK_ID,
        "SUNCO_OAUTH_CLIENT_ID": OAUTH_CLIENT_ID,
        "SUNCO_OAUTH_CLIENT_SECRET": OAUTH_CLIENT_SECRET,
        "SUNCO_OAUTH_REDIRECT_URI": OAUTH_REDIRECT_URI,
    }
