async def test_versions(hs):
    r = await hs.client.get("/_matrix/client/versions")
    assert r.status_code == 200
    assert "versions" in r.json()


async def test_register_and_whoami(hs):
    reg = await hs.register("alice")
    r = await hs.client.get("/_matrix/client/v3/account/whoami",
                            headers={"Authorization": f"Bearer {reg['access_token']}"})
    assert r.json() == {"user_id": "@alice:test.local", "device_id": reg["device_id"],
                        "is_guest": False}
