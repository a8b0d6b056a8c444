"""Account rules: phone numbers, password policy, hashing."""
import pytest

from civic.accounts import operations as ops
from civic.accounts.models import User
from civic.accounts.passwords import weakness
from civic.domain import Invalid
from civic.extensions import db


@pytest.mark.parametrize("raw,expected", [
    ("13912345678", "13912345678"),
    ("139 1234 5678", "13912345678"),
    ("139-1234-5678", "13912345678"),
    ("+8613912345678", "13912345678"),
    ("008613912345678", "13912345678"),
    ("19912345678", "19912345678"),
    ("12912345678", None),   # second digit must be 3-9
    ("1391234567", None),    # 10 digits
    ("139123456789", None),  # 12 digits
    ("23912345678", None),
    ("1391234567a", None),
    ("", None),
    ("02112345678", None),   # landline
])
def test_normalise_phone(raw, expected):
    assert ops.normalise_phone(raw) == expected


@pytest.mark.parametrize("pw,phone,why", [
    ("short1!", None, "short"),
    ("12345678", None, "common"),
    ("woaini1314", None, "common"),
    ("Password1", None, "common"),
    ("aaaaaaaa", None, "common"),
    ("abcdefgh", None, "common"),
    ("87654321", None, "common"),
    ("x13912345678", "13912345678", "phone"),
    ("Lantern-Bridge-42", None, None),
    ("青山绿水长流不息", None, None),
])
def test_password_weakness(pw, phone, why):
    assert weakness(pw, phone) == why


def test_register_hashes_with_scrypt_and_audits(ctx):
    from civic.audit.models import AuditEvent
    user = ops.register("13912345678", "Lantern-Bridge-42", "小王")
    db.session.commit()
    assert user.password_hash.startswith("scrypt:")
    assert "Lantern" not in user.password_hash
    ev = db.session.query(AuditEvent).filter_by(action="account.register").one()
    assert ev.actor == user.pseudonym and "139" not in ev.payload


def test_register_existing_number_returns_none_and_changes_nothing(ctx):
    first = ops.register("13912345678", "Lantern-Bridge-42")
    db.session.commit()
    old_hash = first.password_hash
    assert ops.register("139 1234 5678", "Another-Strong-99") is None
    db.session.commit()
    assert db.session.query(User).count() == 1
    assert db.session.get(User, first.id).password_hash == old_hash


@pytest.mark.parametrize("phone,pw,field", [
    ("12345", "Lantern-Bridge-42", "phone"),
    ("13912345678", "123456789", "password"),
    ("13912345678", "short", "password"),
])
def test_register_refuses_bad_input(ctx, phone, pw, field):
    with pytest.raises(Invalid) as e:
        ops.register(phone, pw)
    assert e.value.field == field
    assert db.session.query(User).count() == 0


def test_authenticate(ctx, make):
    user = make.user(phone="13912345678")
    from tests.conftest import PASSWORD
    assert ops.authenticate("13912345678", PASSWORD).id == user.id
    assert ops.authenticate("13912345678", "wrong-password") is None
    assert ops.authenticate("13900000000", PASSWORD) is None
    user.deleted_at = __import__("civic").clock.now()
    db.session.commit()
    assert ops.authenticate("13912345678", PASSWORD) is None


def test_change_password_rotates_session(ctx, make):
    from tests.conftest import PASSWORD
    user = make.user()
    token = user.session_token
    with pytest.raises(Invalid):
        ops.change_password(user, "not-my-password", "Brand-New-Pass-7")
    with pytest.raises(Invalid):
        ops.change_password(user, PASSWORD, "qwerty123")
    assert user.session_token == token
    ops.change_password(user, PASSWORD, "Brand-New-Pass-7")
    assert user.session_token != token
    assert ops.authenticate(user.phone, "Brand-New-Pass-7") is not None


def test_cli_create_admin(runner, app):
    from civic.audit.models import AuditEvent
    bad = runner.invoke(args=["admin", "create", "--phone", "123", "--password", "x"])
    assert bad.exit_code != 0 and "有效的中国大陆手机号" in bad.output
    weak = runner.invoke(args=["admin", "create", "--phone", "13912345678", "--password", "12345678"])
    assert weak.exit_code != 0 and "太常见" in weak.output
    ok = runner.invoke(args=["admin", "create", "--phone", "13912345678",
                             "--password", "Lantern-Bridge-42"])
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        user = db.session.query(User).filter_by(phone="13912345678").one()
        assert user.is_admin
        assert db.session.query(AuditEvent).filter_by(action="admin.grant").count() == 1

