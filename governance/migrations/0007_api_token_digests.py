"""API tokens are stored as digests (governance.services.token_digest): the keys already issued are
replaced by theirs, so the clients holding them keep working. Not reversible: a digest does not give
the key back (rolling back leaves every client to sign in again)."""

import hashlib

from django.db import migrations


def digest_keys(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    for key in list(Token.objects.values_list("key", flat=True)):
        # The same digest as governance.services.token_digest (a migration keeps its own copy).
        Token.objects.filter(key=key).update(key=hashlib.sha256(key.encode()).hexdigest()[:40])


def forget_keys(apps, schema_editor):
    apps.get_model("authtoken", "Token").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0006_api_token_proxy"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(digest_keys, forget_keys)]
