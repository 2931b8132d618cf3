"""The providers function: CRUD, validation, admin-only writes, and keys never disclosed."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from tests.functions.provider_service._support import (
    admin,
    create_provider,
    member,
    provider_body,
    unique,
)


@pytest.fixture
def providers(client_for):
    return client_for("providers", SERVICE_NAME="provider-service")


async def test_admin_creates_a_provider_and_anyone_signed_in_reads_it_with_exact_prices(
    providers, identity
) -> None:
    created = await create_provider(providers, identity)
    assert created["api_key_set"] is True, created
    assert "api_key_secret" not in created, "the key reference must never be answered"
    assert created["models"] == [
        {
            "name": "gpt-4o",
            "input_usd_per_mtok": "2.5",
            "output_usd_per_mtok": "10",
            "context_window": 128000,
            "rpm": 500,
            "tpm": 30000,
        }
    ]
    read = await providers.get(
        f"/providers/{created['id']}", headers=member(identity, uuid.uuid4())
    )
    assert read.status_code == 200, read.text
    # a member sees the catalog, not where the platform sends its keys (issue 9 item 14)
    assert read.json() == {**created, "base_url": None}


async def test_prices_keep_every_decimal_digit(providers, identity) -> None:
    model = {
        "name": "tiny",
        "input_usd_per_mtok": "0.0000000001",
        "output_usd_per_mtok": 0.15,
        "context_window": 8192,
    }
    created = await create_provider(providers, identity, models=[model])
    assert created["models"][0]["input_usd_per_mtok"] == "0.0000000001", created
    assert created["models"][0]["output_usd_per_mtok"] == "0.15", created


async def test_members_may_not_create_change_or_delete_providers(providers, identity) -> None:
    created = await create_provider(providers, identity)
    someone = member(identity, uuid.uuid4())
    attempts = [
        await providers.post("/providers", json=provider_body(), headers=someone),
        await providers.patch(f"/providers/{created['id']}", json={"priority": 1}, headers=someone),
        await providers.delete(f"/providers/{created['id']}", headers=someone),
    ]
    for answer in attempts:
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    still = await providers.get(f"/providers/{created['id']}", headers=someone)
    assert still.json()["priority"] == 10, "a refused PATCH must change nothing"


async def test_reading_providers_needs_a_token(providers) -> None:
    answer = await providers.get("/providers")
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"].startswith("Bearer"), answer.headers


async def test_a_second_provider_with_the_same_name_is_a_conflict(providers, identity) -> None:
    name = unique("dup")
    await create_provider(providers, identity, name=name)
    again = await providers.post(
        "/providers", json=provider_body(name=name), headers=admin(identity)
    )
    assert again.status_code == 409, again.text
    assert name in again.json()["detail"], again.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "gemini"}, "kind"),
        ({"name": "Has Spaces"}, "name"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"api_key_secret": "sk-live key with spaces"}, "api_key_secret"),
        ({"models": []}, "models"),
        (
            {
                "models": [
                    {
                        "name": "m",
                        "input_usd_per_mtok": "-1",
                        "output_usd_per_mtok": "1",
                        "context_window": 10,
                    }
                ]
            },
            "models",
        ),
        (
            {
                "models": [
                    {
                        "name": "m",
                        "input_usd_per_mtok": "1",
                        "output_usd_per_mtok": "1",
                        "context_window": 10,
                    },
                    {
                        "name": "m",
                        "input_usd_per_mtok": "2",
                        "output_usd_per_mtok": "2",
                        "context_window": 10,
                    },
                ]
            },
            "models",
        ),
        ({"priority": -1}, "priority"),
    ],
)
async def test_invalid_provider_bodies_are_422_naming_the_field(
    providers, identity, change, field
) -> None:
    answer = await providers.post(
        "/providers", json=provider_body(**change), headers=admin(identity)
    )
    assert answer.status_code == 422, answer.text
    locations = [e["loc"][1] for e in answer.json()["errors"]]
    assert field in locations, answer.json()


async def test_patch_replaces_models_changes_fields_and_can_clear_the_key(
    providers, identity
) -> None:
    created = await create_provider(providers, identity)
    changes = {
        "priority": 3,
        "enabled": False,
        "api_key_secret": None,
        "models": [
            {
                "name": "gpt-4o-mini",
                "input_usd_per_mtok": "0.15",
                "output_usd_per_mtok": "0.60",
                "context_window": 128000,
            }
        ],
    }
    answer = await providers.patch(
        f"/providers/{created['id']}", json=changes, headers=admin(identity)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["priority"], body["enabled"], body["api_key_set"]) == (3, False, False), body
    assert [m["name"] for m in body["models"]] == ["gpt-4o-mini"], body
    assert body["models"][0]["output_usd_per_mtok"] == "0.6", body
    assert body["name"] == created["name"], "fields not sent stay as they were"


async def test_patch_to_a_taken_name_is_a_conflict_and_null_name_is_422(
    providers, identity
) -> None:
    first = await create_provider(providers, identity)
    second = await create_provider(providers, identity)
    taken = await providers.patch(
        f"/providers/{second['id']}", json={"name": first["name"]}, headers=admin(identity)
    )
    assert taken.status_code == 409, taken.text
    null = await providers.patch(
        f"/providers/{second['id']}", json={"name": None}, headers=admin(identity)
    )
    assert null.status_code == 422, null.text


async def test_deleted_providers_are_gone(providers, identity) -> None:
    created = await create_provider(providers, identity)
    deleted = await providers.delete(f"/providers/{created['id']}", headers=admin(identity))
    assert deleted.status_code == 204, deleted.text
    gone = await providers.get(f"/providers/{created['id']}", headers=admin(identity))
    assert gone.status_code == 404, gone.text
    again = await providers.delete(f"/providers/{created['id']}", headers=admin(identity))
    assert again.status_code == 404, again.text


async def test_a_malformed_provider_id_is_422(providers, identity) -> None:
    answer = await providers.get("/providers/not-a-uuid", headers=admin(identity))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == ["path", "id"]


async def test_the_list_is_ordered_by_priority_and_pages_with_a_cursor(providers, identity) -> None:
    tag = unique("order")
    for priority in (7000, 7002, 7001):
        await create_provider(providers, identity, name=f"{tag}-{priority}", priority=priority)
    seen = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await providers.get("/providers", params=params, headers=admin(identity))
        assert page.status_code == 200, page.text
        seen += [p["name"] for p in page.json()["items"] if p["name"].startswith(tag)]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"{tag}-7000", f"{tag}-7001", f"{tag}-7002"], seen


async def test_local_providers_need_no_url_and_cloud_ones_get_the_vendor_default(
    providers, identity
) -> None:
    local = await create_provider(
        providers, identity, kind="local", base_url=None, api_key_secret=None
    )
    assert (local["base_url"], local["api_key_set"]) == (None, False), local
    anthropic = await create_provider(providers, identity, kind="anthropic", base_url=None)
    assert anthropic["base_url"] == "https://api.anthropic.com", anthropic


async def test_the_key_reference_never_appears_in_answers_or_logs(
    providers, identity, caplog
) -> None:
    reference = f"env://KEY_{uuid.uuid4().hex[:12].upper()}_API_KEY"
    caplog.set_level(logging.DEBUG)
    created = await create_provider(providers, identity, api_key_secret=reference)
    listed = await providers.get("/providers", params={"limit": "200"}, headers=admin(identity))
    one = await providers.get(f"/providers/{created['id']}", headers=admin(identity))
    patched = await providers.patch(
        f"/providers/{created['id']}", json={"priority": 11}, headers=admin(identity)
    )
    secret_name = reference.removeprefix("env://")
    for answer in (listed, one, patched):
        assert secret_name not in answer.text, answer.text
    assert secret_name not in caplog.text, "the key reference leaked into the logs"
    assert patched.json()["api_key_set"] is True, "an untouched key stays set"


async def test_only_internal_services_read_a_key_reference(client_for, identity) -> None:
    providers = client_for("providers")
    admin = identity.headers(str(uuid.uuid4()), role="admin")
    created = await providers.post(
        "/providers",
        json={
            "name": f"ref-{uuid.uuid4().hex[:8]}",
            "kind": "openai",
            "api_key_secret": "env://OPENAI_TEST_API_KEY",
            "models": [
                {
                    "name": "gpt-x",
                    "input_usd_per_mtok": "1",
                    "output_usd_per_mtok": "2",
                    "context_window": 1000,
                }
            ],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    path = f"/providers/{created.json()['id']}/credentials"
    internal = identity.headers("sa:orchestrator", role="service", scope="internal")
    answer = await providers.get(path, headers=internal)
    assert (
        answer.status_code == 200 and answer.json()["api_key_secret"] == "env://OPENAI_TEST_API_KEY"
    )
    for headers in (admin, {**internal, "X-Acting-User": str(uuid.uuid4())}):
        denied = await providers.get(path, headers=headers)
        assert denied.status_code == 403, denied.text


@pytest.mark.parametrize(
    "change",
    [
        {"base_url": "http://169.254.169.254/latest"},
        {"base_url": "http://user:pass@api.example.com/v1"},
        {"base_url": "http://2130706433/v1"},
        {"api_key_secret": "env://HOME"},
        {"api_key_secret": "env://PLATFORM_CLIENT_SECRET"},
    ],
)
async def test_a_provider_cannot_be_pointed_at_metadata_or_read_any_variable(
    providers, identity, change
) -> None:
    """Issue 9 item 8: base_url and env:// were an exfiltration path."""
    from tests.functions.provider_service._support import provider_body

    created = await providers.post(
        "/providers", json=provider_body(**change), headers=admin(identity)
    )
    assert created.status_code == 422, created.text
    existing = await create_provider(providers, identity)
    patched = await providers.patch(
        f"/providers/{existing['id']}", json=change, headers=admin(identity)
    )
    assert patched.status_code == 422, patched.text


async def test_members_do_not_see_where_provider_keys_are_sent(providers, identity) -> None:
    """Issue 9 item 14: members saw every provider's base_url."""
    created = await create_provider(providers, identity, base_url="https://llm.internal.example/v1")
    someone = member(identity, uuid.uuid4())
    one = (await providers.get(f"/providers/{created['id']}", headers=someone)).json()
    listed = (await providers.get("/providers", params={"limit": "200"}, headers=someone)).json()
    assert one["base_url"] is None and "llm.internal.example" not in json.dumps(listed)
    as_admin = await providers.get(f"/providers/{created['id']}", headers=admin(identity))
    assert as_admin.json()["base_url"] == "https://llm.internal.example/v1"
