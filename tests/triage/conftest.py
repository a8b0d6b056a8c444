"""An issue that reached its threshold and waits for triage."""
import pytest

from civic.extensions import db
from civic.issues.models import Issue


@pytest.fixture
def waiting(app, make, make_issue, client):
    """waiting(community, cosigners=2, category="设施维修") → (issue id, number, author,
    cosigners): an issue in awaiting_triage, co-signed through the real route."""
    from tests.conftest import PASSWORD

    def build(community, cosigners=2, category="设施维修", title="地下车库积水"):
        author = make.resident(community)
        iid, n = make_issue(community, author=author, need=cosigners, category=category,
                            title=title)
        people = []
        for _ in range(cosigners):
            u = make.resident(community)
            c = app.test_client()
            c.post("/login", data={"phone": u.phone, "password": PASSWORD})
            assert c.post(f"/c/{community.slug}/issues/{n}/cosign").status_code == 303
            people.append(u)
        with app.app_context():
            assert db.session.get(Issue, iid).state.value == "awaiting_triage"
        return iid, n, author, people
    return build
