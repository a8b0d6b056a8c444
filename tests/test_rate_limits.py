"""Every throttled action answers 429 with the Chinese page once its limit is used up:
registration per address, proposing, co-signing, commenting and reporting per user.
(Login and invitation codes have their own tests, per account and per address; the Redis
storage and its outage are in tests/accounts/test_ratelimit_storage.py.)"""
from __future__ import annotations

import pytest

#: action → (limit, the request to repeat)
ACTIONS = {
    "register": (10, lambda c, n: ("/register", {"phone": "139", "password": "x"})),
    "propose": (20, lambda c, n: (f"/c/{c.slug}/issues/new", {"title": ""})),
    "cosign": (60, lambda c, n: (f"/c/{c.slug}/issues/{n}/cosign", {})),
    "comment": (30, lambda c, n: (f"/c/{c.slug}/issues/{n}/comments", {"body": ""})),
    "report": (30, lambda c, n: (f"/c/{c.slug}/report/issue/{n}", {"reason": ""})),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_throttled_action_answers_429_past_its_limit(app, client, make, auth,
                                                          make_issue, action):
    c = make.community()
    iid, n = make_issue(c)
    if action == "report":
        n = iid   # reports name the issue by id
    if action != "register":
        auth.login(make.resident(c))
    limit, request = ACTIONS[action]
    url, data = request(c, n)
    codes = [client.post(url, data=data).status_code for _ in range(limit + 1)]
    assert 429 not in codes[:limit] and max(codes[:limit]) < 403, codes
    assert codes[limit] == 429
    page = client.post(url, data=data)
    assert page.status_code == 429 and "操作太频繁" in page.get_data(as_text=True)
    # when to try again: at the latest when the limit's window ends
    assert 0 < int(page.headers["Retry-After"]) <= 3600
