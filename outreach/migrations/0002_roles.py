"""Once created the role groups; they are made by ``accounts.0001_roles`` now.

Kept, empty, because databases have it recorded and later migrations follow it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0001_initial"),
        ("cases", "0001_initial"),
        ("partners", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = []
