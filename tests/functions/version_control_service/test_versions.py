"""versions: experiments, content-addressed versions, aliases with history, diff, /resolve."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

CONFIG: dict[str, Any] = {
    "prompt_template": "Review {path} ({language}):\n{code}",
    "routing": {"candidates": [{"provider": "local", "model": "local-analyzers"}]},
    "analyzers": ["ruff", "bandit"],
    "severity_threshold": "low",
    "token_budget": 2000,
}


@pytest.fixture
def admin(identity) -> dict[str, str]:
    return identity.headers(str(uuid.uuid4()), role="admin")


@pytest.fixture
def member(identity) -> dict[str, str]:
    return identity.headers(str(uuid.uuid4()), role="member")


@pytest.fixture
def versions(client_for) -> httpx.AsyncClient:
    return client_for("versions")


async def _experiment(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = await client.post(
        "/experiments", json={"name": f"exp-{uuid.uuid4().hex[:8]}"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _version(client, headers, experiment_id, config=None, **extra) -> httpx.Response:
    return await client.post(
        f"/experiments/{experiment_id}/versions",
        json={"config": config or CONFIG, **extra},
        headers=headers,
    )


async def test_identical_configuration_answers_the_existing_version(versions, admin) -> None:
    experiment = await _experiment(versions, admin)
    first = await _version(versions, admin, experiment["id"], message="first")
    again = await _version(versions, admin, experiment["id"], config=dict(reversed(CONFIG.items())))
    assert first.status_code == 201 and again.status_code == 200, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["number"] == 1 and len(first.json()["sha256"]) == 64


async def test_versions_are_numbered_per_experiment_and_linked_to_their_parent(
    versions, admin
) -> None:
    experiment = await _experiment(versions, admin)
    v1 = (await _version(versions, admin, experiment["id"])).json()
    v2 = (
        await _version(versions, admin, experiment["id"], config={**CONFIG, "token_budget": 3000})
    ).json()
    other = await _experiment(versions, admin)
    o1 = (
        await _version(versions, admin, other["id"], config={**CONFIG, "token_budget": 3000})
    ).json()
    assert (v1["number"], v2["number"], o1["number"]) == (1, 2, 1)
    assert v1["parent_id"] is None and v2["parent_id"] == v1["id"]
    assert o1["sha256"] == v2["sha256"], "the hash depends on the configuration only"


async def test_concurrent_creation_gives_consecutive_numbers(versions, admin) -> None:
    experiment = await _experiment(versions, admin)
    answers = await asyncio.gather(
        *(
            _version(versions, admin, experiment["id"], config={**CONFIG, "token_budget": 1000 + i})
            for i in range(8)
        )
    )
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert sorted(a.json()["number"] for a in answers) == list(range(1, 9))


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**CONFIG, "prompt_template": "no placeholder here"}, "prompt_template"),
        ({**CONFIG, "prompt_template": "bad {secret} {code}"}, "prompt_template"),
        ({**CONFIG, "token_budget": 5}, "token_budget"),
        ({**CONFIG, "severity_threshold": "urgent"}, "severity_threshold"),
        ({**CONFIG, "routing": {"candidates": []}}, "routing"),
        ({**CONFIG, "analyzers": ["rm -rf"]}, "analyzers"),
        ({**CONFIG, "unexpected": 1}, "unexpected"),
    ],
)
async def test_an_invalid_configuration_is_a_422_naming_the_field(
    versions, admin, config, field
) -> None:
    experiment = await _experiment(versions, admin)
    answer = await _version(versions, admin, experiment["id"], config=config)
    assert answer.status_code == 422, answer.text
    locations = [".".join(str(p) for p in e["loc"]) for e in answer.json()["errors"]]
    assert any(field in loc for loc in locations), locations


async def test_members_read_but_cannot_write(versions, admin, member) -> None:
    experiment = await _experiment(versions, admin)
    denied = await versions.post("/experiments", json={"name": "mine"}, headers=member)
    assert denied.status_code == 403 and denied.json()["status"] == 403
    read = await versions.get(f"/experiments/{experiment['name']}", headers=member)
    assert read.status_code == 200 and read.json()["id"] == experiment["id"]
    anonymous = await versions.get("/experiments")
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["www-authenticate"]


async def test_alias_moves_keep_history_and_roll_back_step_by_step(versions, admin) -> None:
    experiment = await _experiment(versions, admin)
    ids = [
        (
            await _version(
                versions, admin, experiment["id"], config={**CONFIG, "token_budget": 1000 + i}
            )
        ).json()["id"]
        for i in range(3)
    ]
    for version_id in ids:
        moved = await versions.put(
            f"/experiments/{experiment['id']}/aliases/staging",
            json={"version_id": version_id, "reason": f"try {version_id[:4]}"},
            headers=admin,
        )
        assert moved.status_code == 200 and moved.json()["version_id"] == version_id, moved.text
    back = await versions.post(
        f"/experiments/{experiment['id']}/aliases/staging/rollback", headers=admin
    )
    assert back.json()["version_id"] == ids[1], back.text
    back = await versions.post(
        f"/experiments/{experiment['id']}/aliases/staging/rollback", headers=admin
    )
    assert back.json()["version_id"] == ids[0], back.text
    none_left = await versions.post(
        f"/experiments/{experiment['id']}/aliases/staging/rollback", headers=admin
    )
    assert none_left.status_code == 409, none_left.text
    history = (
        await versions.get(
            f"/experiments/{experiment['id']}/aliases/staging/history", headers=admin
        )
    ).json()
    moves = [(h["from_version_id"], h["to_version_id"], h["rollback"]) for h in history["items"]]
    assert moves == [
        (ids[1], ids[0], True),
        (ids[2], ids[1], True),
        (ids[1], ids[2], False),
        (ids[0], ids[1], False),
        (None, ids[0], False),
    ]
    assert all(h["changed_by"] and h["changed_at"] for h in history["items"])


async def test_an_alias_cannot_point_into_another_experiment(versions, admin) -> None:
    mine, other = await _experiment(versions, admin), await _experiment(versions, admin)
    foreign = (await _version(versions, admin, other["id"])).json()
    answer = await versions.put(
        f"/experiments/{mine['id']}/aliases/production",
        json={"version_id": foreign["id"]},
        headers=admin,
    )
    assert answer.status_code == 404, answer.text


async def test_diff_lists_each_changed_field(versions, admin) -> None:
    experiment = await _experiment(versions, admin)
    old = (await _version(versions, admin, experiment["id"])).json()
    new_config = {
        **CONFIG,
        "token_budget": 8000,
        "routing": {
            "candidates": [
                {"provider": "openai", "model": "gpt-4.1"},
                {"provider": "local", "model": "local-analyzers"},
            ]
        },
    }
    new = (await _version(versions, admin, experiment["id"], config=new_config)).json()
    answer = await versions.get(f"/versions/{old['id']}/diff/{new['id']}", headers=admin)
    changes = {c["path"]: c for c in answer.json()["changes"]}
    assert changes["token_budget"] == {
        "path": "token_budget",
        "op": "changed",
        "from": 2000,
        "to": 8000,
    }
    assert changes["routing.candidates[0].provider"]["to"] == "openai"
    assert changes["routing.candidates[1]"]["op"] == "added"


async def test_resolve_is_cached_and_a_moved_alias_is_seen_at_once(versions, admin, member) -> None:
    experiment = await _experiment(versions, admin)
    v1 = (await _version(versions, admin, experiment["id"])).json()
    v2 = (
        await _version(versions, admin, experiment["id"], config={**CONFIG, "token_budget": 999})
    ).json()
    path = f"/experiments/{experiment['id']}/aliases/production"
    await versions.put(path, json={"version_id": v1["id"]}, headers=admin)
    query = {"experiment": experiment["name"], "alias": "production"}
    first = await versions.get("/resolve", params=query, headers=member)
    second = await versions.get("/resolve", params=query, headers=member)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert (
        second.json()["version"]["id"] == v1["id"]
        and second.json()["version"]["config"]["token_budget"] == 2000
    )
    await versions.put(path, json={"version_id": v2["id"]}, headers=admin)
    after = await versions.get("/resolve", params=query, headers=member)
    assert after.json()["version"]["id"] == v2["id"], "a moved alias must not be served stale"
    by_id = await versions.get(
        "/resolve", params={"experiment": experiment["id"], "version_id": v1["id"]}, headers=member
    )
    assert by_id.json()["version"]["number"] == 1 and by_id.json()["alias"] is None


async def test_the_default_experiment_exists_with_a_production_alias(versions, member) -> None:
    answer = await versions.get("/resolve", headers=member)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["experiment"] == "default" and body["alias"] == "production"
    assert body["version"]["config"]["routing"]["candidates"][0]["provider"] == "local"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/versions/not-a-uuid", 422),
        (f"/versions/{uuid.uuid4()}", 404),
        ("/experiments/'; drop table versions; --", 404),
        ("/experiments/..%2F..%2Fetc/aliases", 404),
        ("/resolve?experiment=default&version_id=zzz", 422),
        ("/resolve?experiment=nope&alias=production", 404),
    ],
)
async def test_hostile_or_unknown_references_are_problems_not_errors(
    versions, member, path, status
) -> None:
    answer = await versions.get(path, headers=member)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_hostile_alias_name_is_refused(versions, admin) -> None:
    experiment = await _experiment(versions, admin)
    answer = await versions.put(
        f"/experiments/{experiment['id']}/aliases/a%20b;drop",
        json={"version_id": str(uuid.uuid4())},
        headers=admin,
    )
    assert answer.status_code == 422, answer.text


async def test_an_upper_case_experiment_id_is_not_served_stale(versions, admin, member) -> None:
    """Issue 9 item 13: /resolve cached an upper-case id under its own key, which a move
    of the alias did not clear, for 5 minutes."""
    experiment = await _experiment(versions, admin)
    v1 = (await _version(versions, admin, experiment["id"])).json()
    v2 = (
        await _version(versions, admin, experiment["id"], config={**CONFIG, "token_budget": 999})
    ).json()
    path = f"/experiments/{experiment['id']}/aliases/production"
    await versions.put(path, json={"version_id": v1["id"]}, headers=admin)
    upper = {"experiment": experiment["id"].upper(), "alias": "production"}
    assert (await versions.get("/resolve", params=upper, headers=member)).json()["version"][
        "id"
    ] == v1["id"]
    await versions.put(path, json={"version_id": v2["id"]}, headers=admin)
    after = await versions.get("/resolve", params=upper, headers=member)
    assert after.json()["version"]["id"] == v2["id"], after.text


async def _default_row_xmax(name: str) -> str:
    """The transaction id that last locked or updated experiment ``name``'s row."""
    from functions.version_control_service import context

    async with context.database.connection() as conn:
        found = await conn.fetchval("select xmax::text from experiments where name = $1", name)
    return str(found)


async def test_a_start_that_finds_the_default_experiment_takes_no_lock(versions, member) -> None:
    """Every start but the first reads that the default is in place and stops there: no
    transaction, no row lock (whose commit would wait for a WAL flush) per cold start."""
    from functions.version_control_service import context

    assert (await versions.get("/resolve", headers=member)).status_code == 200  # started
    before = await _default_row_xmax("default")
    await context.ensure_default_experiment()
    await context.ensure_default_experiment()
    assert await _default_row_xmax("default") == before


async def test_a_start_completes_a_default_experiment_found_without_its_alias(
    client_for, admin, member
) -> None:
    """An experiment of that name with no version and no alias yet (made through the API,
    or a start interrupted before its commit) gets both at the next start."""
    name = f"default-{uuid.uuid4().hex[:8]}"
    first = client_for("versions")
    made = await first.post("/experiments", json={"name": name}, headers=admin)
    assert made.status_code == 201, made.text
    missing = await first.get(f"/resolve?experiment={name}", headers=member)
    assert missing.status_code == 404, missing.text

    restarted = client_for("versions", DEFAULT_EXPERIMENT=name)
    answer = await restarted.get("/resolve", headers=member)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["experiment"] == name and body["alias"] == "production"
    assert body["version"]["number"] == 1 and body["version"]["message"] == (
        "Default reviewer configuration"
    )
