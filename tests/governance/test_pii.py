import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models

from governance import pii
from governance.logging import mask_text
from governance.models import PersonalDataAccess
from governance.services import personal_data_reveal


def test_encryption_round_trips_and_the_ciphertext_hides_the_value():
    token = pii.encrypt("张三 340104199003071234")
    assert "张三" not in token and "340104" not in token
    assert pii.decrypt(token) == "张三 340104199003071234"


def test_keys_can_be_rotated(settings):
    old = pii.encrypt("李四")
    settings.FIELD_ENCRYPTION_KEY = "a-new-key," + settings.FIELD_ENCRYPTION_KEY
    assert pii.decrypt(old) == "李四"
    assert pii.decrypt(pii.encrypt("王五")) == "王五"


def test_keyed_hashes_survive_a_key_rotation(settings):
    settings.FIELD_ENCRYPTION_KEY = "the-original-key"
    before = (pii.keyed_hash("340104199003071234"), pii.keyed_hash("13812345678"))
    settings.FIELD_ENCRYPTION_KEY = "a-new-key,the-original-key"  # rotation prepends
    assert (pii.keyed_hash("340104199003071234"), pii.keyed_hash("13812345678")) == before
    settings.FIELD_ENCRYPTION_KEY = "a-newer-key,a-new-key,the-original-key"
    assert pii.keyed_hash("340104199003071234") == before[0]
    # An explicit FIELD_HASH_KEY wins: set to the original key, that key can leave the list.
    settings.FIELD_HASH_KEY = "the-original-key"
    settings.FIELD_ENCRYPTION_KEY = "a-newer-key,a-new-key"
    assert pii.keyed_hash("340104199003071234") == before[0]
    settings.FIELD_HASH_KEY = "another-hash-key"
    assert pii.keyed_hash("340104199003071234") != before[0]


def test_a_wrong_key_fails_loudly(settings):
    token = pii.encrypt("李四")
    settings.FIELD_ENCRYPTION_KEY = "another-key"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        pii.decrypt(token)


def test_the_encrypted_field_stores_ciphertext_in_the_database(db):
    field = pii.EncryptedTextField()
    stored = field.get_prep_value("13812345678")
    assert stored != "13812345678"
    assert field.from_db_value(stored, None, connection) == "13812345678"
    assert field.get_prep_value("") == "" and field.get_prep_value(None) is None
    assert isinstance(field, models.TextField)


def test_keyed_hash_matches_equal_values_without_revealing_them():
    a = pii.keyed_hash("34010419900307123x")
    assert a == pii.keyed_hash(" 34010419900307123X ")
    assert a != pii.keyed_hash("340104199003071235")
    assert "340104" not in a and len(a) == 64
    assert pii.keyed_hash("") == ""


@pytest.mark.parametrize(("raw", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("", "")])
def test_names_are_masked_to_the_family_name(raw, masked):
    assert pii.mask_name(raw) == masked


def test_id_numbers_and_phones_are_masked():
    assert pii.mask_id_number("340104199003071234") == "3401**********1234"
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_address("安徽省合肥市蜀山区某某路1号") == "安徽省合肥市***"


def _with_check_digit(first17: str) -> str:
    return first17 + pii.id_check_digit(first17)


def test_a_valid_resident_id_passes_and_is_normalised():
    valid = _with_check_digit("11010519491231002")
    assert valid == "11010519491231002X"  # the GB 11643 worked example
    assert pii.validate_resident_id(valid.lower()) == valid


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "format"),
        ("1101051949123100AX", "format"),
        ("110105194913310021", "birth"),
        ("110105194912310021", "check_digit"),
        (_with_check_digit("11010520991231001"), "birth"),  # born in 2099
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "format"),  # Arabic-Indic digits: \d took them too
    ],
)
def test_bad_resident_ids_say_what_is_wrong(value, code):
    with pytest.raises(ValidationError) as exc:
        pii.validate_resident_id(value)
    assert exc.value.code == code


def test_full_width_digits_are_read_as_the_digits_they_are():
    """A Chinese input method types "１１０１…": the digit class took those and they were stored as typed,
    hashed apart from the same number in ASCII, so one person could be two parties of a case and a
    repeat petition went unmatched."""
    full_width = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    valid = _with_check_digit("11010519491231002")
    assert pii.validate_resident_id(valid.translate(full_width)) == valid
    assert pii.validate_resident_id(valid.translate(full_width).replace("Ｘ", "ｘ")) == valid
    assert pii.validate_phone("138１２３４５６７８") == "13812345678"
    assert pii.validate_phone("０５５１－６２３４５６７８") == "0551-62345678"
    assert pii.keyed_hash(valid.translate(full_width)) == pii.keyed_hash(valid)


def test_phones_are_validated():
    assert pii.validate_phone("138 1234 5678") == "13812345678"
    assert pii.validate_phone("0551-62345678") == "0551-62345678"
    with pytest.raises(ValidationError):
        pii.validate_phone("12345")


def test_a_reveal_needs_a_reason_and_is_logged(cast):
    with pytest.raises(ValidationError):
        personal_data_reveal(
            actor=cast.mediator, obj=cast.grid_a, record="DSP-2026-000001", fields=["name"], reason=" "
        )
    entry = personal_data_reveal(
        actor=cast.mediator,
        obj=cast.grid_a,
        record="DSP-2026-000001",
        fields=["name", "phone"],
        reason="联系当事人",
        ip_address="127.0.0.1",
    )
    assert PersonalDataAccess.objects.get() == entry
    assert entry.fields == "name,phone" and entry.user == cast.mediator


def test_the_logging_filter_masks_id_numbers_and_mobiles():
    assert mask_text("id 340104199003071234 tel 13812345678") == "id 3401**********1234 tel 138****5678"
    assert mask_text("号码340104199003071234。") == "号码3401**********1234。"
    # The digits of a fraction are no one's number (a Celery task's run time).
    assert mask_text("succeeded in 0.008012345678906237s") == "succeeded in 0.008012345678906237s"
    assert mask_text("0.13812345678") == "0.13812345678"
    # With the country code, as people write it.
    assert mask_text("tel +8613812345678, 0086-13812345678, 86 13812345678") == (
        "tel +86138****5678, 0086-138****5678, 86 138****5678"
    )


def test_the_logging_filter_masks_numbers_written_in_groups_or_full_width_outside_a_request():
    """A Celery task or a command logs what it read (an exception naming the text it failed on): no
    request has remembered the values there, and only the plain-digit forms were masked; the free
    texts' own pattern (governance.pii.mask_numbers_in_text) reads the others."""
    assert mask_text("tel 138 0013 8000; 138-0013-8000") == "tel 138****8000; 138****8000"
    assert mask_text("电话１３８００１３８０００，身份证３４０１０４１９９００３０７１２３４") == (
        "电话138****8000，身份证３４０１**********１２３４"
    )
    assert (
        mask_text("id 340104 19900307 1234, tel 0551 6234 5678") == "id 3401**********1234, tel 055*****5678"
    )
    assert mask_text("0.138 0013 8000") == "0.138 0013 8000"  # no number after a decimal point


def test_the_logging_filter_masks_landlines_as_phones_are_stored():
    # validate_phone stores landlines too ("0551-62345678" or "055162345678").
    assert mask_text("tel 0551-62345678, 055162345678, 010-12345678") == (
        "tel 0551-****5678, 0551****5678, 010-****5678"
    )
    # Not area codes, record numbers, times or counts.
    for text in [
        "340102001001001",
        "DSP-2026-000123",
        "2026-12-02 11:00:42,123",
        "rows 0123456",
        "in 0.05512345678s",
    ]:
        assert mask_text(text) == text


def test_the_logging_filter_masks_the_traceback_of_a_logged_exception():
    import io
    import logging

    from governance.logging import MaskPersonalDataFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalDataFilter())
    logger = logging.getLogger("tests.pii.traceback")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("no petitioner with phone 13812345678 or id 340104199003071234")
        except ValueError:
            logger.exception("Internal Server Error: /petitions/?phone=13812345678")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output and "13812345678" not in output and "340104199003071234" not in output
    assert "138****5678" in output and "3401**********1234" in output


def test_a_celery_worker_masks_personal_data_in_its_log(real_celery, redis_url):
    # Celery replaces the root logger's handlers with its own, without the filter of settings.LOGGING.
    # An unregistered task is logged with its whole message body, arguments included.
    import os
    import subprocess
    import sys
    import threading
    import uuid
    from pathlib import Path

    queue = f"test-mask-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "governance", "worker", "--pool", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, "REDIS_URL": redis_url},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: list[str] = []
    body_logged = threading.Event()

    def read() -> None:
        # The body's line carries the phone number, masked or not: the message has been logged. A
        # worker starting on a busy machine takes anything from 2 s to half a minute to get there,
        # so the test waits for that line rather than for a fixed time.
        for raw in worker.stdout:
            lines.append(raw.decode())
            if "5678" in lines[-1]:
                body_logged.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        real_celery.send_task(
            "governance.no_such_task", args=["13812345678", "340104199003071234"], queue=queue
        )
        body_logged.wait(timeout=120)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        reader.join(timeout=20)
    output = "".join(lines)
    assert "governance.no_such_task" in output, output
    assert "13812345678" not in output and "340104199003071234" not in output
    assert "138****5678" in output


def test_a_reveal_behind_the_tls_proxy_logs_the_address_the_proxy_saw(cast, settings):
    # docker-compose runs web behind a TLS proxy: REMOTE_ADDR is the proxy, the same for every reveal.
    from django.test import RequestFactory

    from governance.services import client_ip

    def request(forwarded):
        return RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    settings.BEHIND_TLS_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.2"]
    # The proxy appends the address it saw; what the client sent before it is not to be trusted.
    assert client_ip(request("198.51.100.9, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(request("not an address")) == "10.0.0.2"
    assert client_ip(request("")) == "10.0.0.2"
    entry = personal_data_reveal(
        actor=cast.mediator,
        obj=cast.grid_a,
        record="DSP-2026-000001",
        fields=["name"],
        reason="联系当事人",
        ip_address=client_ip(request("203.0.113.7")),
    )
    assert PersonalDataAccess.objects.get(pk=entry.pk).ip_address == "203.0.113.7"
    settings.BEHIND_TLS_PROXY = False  # served directly: a client may send any header it likes
    assert client_ip(request("203.0.113.7")) == "10.0.0.2"


def test_only_the_proxy_is_believed_about_the_client_s_address(settings):
    # gunicorn is reachable by more than the proxy (docker's network, a WEB_BIND on a shared LAN): a
    # peer that is not the proxy wrote X-Forwarded-For itself, and the access log of personal data
    # recorded the address it chose.
    from django.test import RequestFactory

    from governance.services import client_ip

    def request(peer):
        return RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR="203.0.113.7")

    settings.BEHIND_TLS_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["172.31.250.1", "10.8.0.0/16"]
    assert client_ip(request("172.31.250.1")) == "203.0.113.7"
    assert client_ip(request("10.8.3.4")) == "203.0.113.7"  # a network, as gunicorn takes it
    assert client_ip(request("192.0.2.44")) == "192.0.2.44"
    assert client_ip(request("172.31.250.2")) == "172.31.250.2"
    settings.FORWARDED_ALLOW_IPS = ["*"]  # gunicorn's "any peer": the operator's explicit choice
    assert client_ip(request("192.0.2.44")) == "203.0.113.7"


def _server_log(code: str, **env: str) -> str:
    """What a fresh process (as a server would be) writes to its log running ``code`` after setup."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run(
        [sys.executable, "-c", "import django, logging; django.setup()\n" + code],
        cwd=Path(__file__).resolve().parents[2],
        env={
            **os.environ,
            "SECRET_KEY": "s" * 50,
            "FIELD_ENCRYPTION_KEY": "f",
            "ALLOWED_HOSTS": "x",
            "DJANGO_SETTINGS_MODULE": "governance.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stderr


@pytest.mark.parametrize("debug", ["1", "0"])
def test_djangos_own_loggers_mask_personal_data_too(debug):
    # Django configures "django" (its console handler when DEBUG, an AdminEmailHandler) and
    # "django.server" before settings.LOGGING: handlers without the filter, and the first of them saw
    # an "Internal Server Error" before the root's filtered handler did.
    code = (
        "try:\n"
        "    raise ValueError('petitioner 340104199003071234, phone 13812345678')\n"
        "except ValueError:\n"
        "    logging.getLogger('django.request').error('Internal Server Error: /x', exc_info=True)\n"
        "logging.getLogger('django.server').info('\"GET /x?phone=13987654321 HTTP/1.1\" 200 1')\n"
        "logging.getLogger('django.security.csrf').warning('Forbidden: 11010519491231002X')\n"
        "from django.utils.log import AdminEmailHandler\n"
        "assert not any(isinstance(h, AdminEmailHandler) for n in ('django', 'django.request', '')"
        " for h in logging.getLogger(n).handlers)\n"
    )
    logged = _server_log(code, DEBUG=debug)
    assert "Internal Server Error" in logged and "GET /x" in logged and "Forbidden" in logged, logged
    for raw in ["340104199003071234", "13812345678", "13987654321", "11010519491231002X"]:
        assert raw not in logged, logged
    assert "3401**********1234" in logged and "139****4321" in logged and "1101**********002X" in logged
    # Once, not twice (Django's console handler and the root's).
    assert logged.count("Internal Server Error") == 1


def test_debug_logging_carries_no_template_context_and_no_sql_parameters():
    # LOG_LEVEL=DEBUG is for chasing a problem, not for copying personal data into the log. Django logs
    # every variable a template fails to resolve at DEBUG with the whole context in the exception's
    # text: a reveal's context holds the decrypted name and address, which the mask filter cannot
    # recognise. And every SQL statement with its parameters, keyed hashes of ID numbers included.
    code = (
        "from django.template import Context, Template\n"
        "Template('{{ party_edit.id }}{{ revealed.name }}').render(\n"
        "    Context({'revealed': {'name': '张三丰', 'address': '甲区春晖路12号3栋'}}))\n"
        "from django.db import connection\n"
        "connection.force_debug_cursor = True\n"
        "connection.cursor().execute('SELECT %s', ['f0d8fe68e126675e4dde9094f5d7bceb'])\n"
        "logging.getLogger('governance').debug('debug logging is on')\n"
    )
    logged = _server_log(code, DEBUG="1", LOG_LEVEL="DEBUG")
    assert "debug logging is on" in logged, logged
    for raw in ["张三丰", "春晖路12号", "f0d8fe68e126675e4dde9094f5d7bceb"]:
        assert raw not in logged, logged


def test_the_logging_filter_masks_what_the_request_decrypted_or_encrypted():
    # Names and addresses have no pattern: the encrypted field tells the filter each value it handles
    # while a request is answered (PersonalDataLogScopeMiddleware), masked like the lists mask it.
    from governance.logging import tracking_plaintext

    name, address = pii.EncryptedTextField(), pii.EncryptedTextField()
    name.set_attributes_from_name("name")
    address.set_attributes_from_name("address")
    stored_name = name.get_prep_value("欧阳娜娜")  # as a save encrypts it
    with tracking_plaintext():
        assert name.from_db_value(stored_name, None, None) == "欧阳娜娜"  # as a read decrypts it
        address.get_prep_value("甲区春晖路12号3栋")
        assert mask_text("cannot render {'name': '欧阳娜娜', 'address': '甲区春晖路12号3栋'}") == (
            "cannot render {'name': '欧***', 'address': '甲区春晖路***'}"
        )
        assert mask_text("a 欧 alone") == "a 欧 alone"
    # After the request nothing is remembered, and nothing is collected outside one (tasks, commands).
    name.from_db_value(stored_name, None, None)
    assert mask_text("欧阳娜娜") == "欧阳娜娜"


def test_the_api_schema_names_no_keyed_hash_and_shows_no_example_person(cast):
    from tests.base import api_client

    schema = api_client(cast.admin).get("/api/schema/", {"format": "json"}).content.decode()
    assert '"RevealedParty"' in schema and '"RevealedPetitioner"' in schema  # the reveals are documented
    assert "id_hash" not in schema and "phone_hash" not in schema
    assert mask_text(schema) == schema  # no ID, mobile or landline number in an example or description


def _person(**fields):
    from types import SimpleNamespace

    return SimpleNamespace(**{"PERSONAL_FIELDS": ("name", "id_number", "phone", "address"), **fields})


def test_scrubbing_a_text_replaces_the_peoples_details_and_masks_every_other_number():
    people = [
        _person(
            name="张三丰", id_number="11010519491231002X", phone="13812345678", address="甲区春晖路12号3栋"
        ),
        _person(name="李四", id_number="", phone="0551-62345678", address=""),
    ]
    text = (
        "申请人张三丰（身份证110105 19491231 002x，电话+86 138-1234-5678，住甲区春晖路12号3栋）"
        "与李四（座机(0551)62345678）协商；证人王五１３７００００１１１１；编号tel13812345678。"
    )
    assert pii.scrub_people_from_text(text, people, "[X]") == (
        "申请人[X]（身份证[X]，电话[X]，住[X]）与[X]（座机[X]）协商；证人王五137****1111；编号tel[X]。"
    )
    # A second pass changes nothing: the marker and a masked number hold no detail to find.
    once = pii.scrub_people_from_text(text, people, "[X]")
    assert pii.scrub_people_from_text(once, people, "[X]") == once


def test_scrubbing_replaces_a_full_name_only_and_a_latin_one_as_a_whole_word():
    people = [_person(name="李四", id_number="", phone="", address=""), _person(name="Ann Lee", phone="")]
    # Chinese is written without spaces: the full name is replaced wherever it is, even run into the
    # next word; the surname alone, a single character or the name split by a space are not the name.
    assert pii.scrub_people_from_text("李四说李四光路的李先生和老李、李 四都在", people, "[X]") == (
        "[X]说[X]光路的李先生和老李、李 四都在"
    )
    # A Latin name is a whole word, in any case: not the start of a longer one.
    assert pii.scrub_people_from_text("ann lee, Ann Leech and Ann Lee.", people, "[X]") == (
        "[X], Ann Leech and [X]."
    )
    # One character would replace that character everywhere: a name that short stays.
    assert pii.scrub_people_from_text("王说", [_person(name="王", phone="")], "[X]") == "王说"
    assert pii.scrub_people_from_text("", people, "[X]") == ""
