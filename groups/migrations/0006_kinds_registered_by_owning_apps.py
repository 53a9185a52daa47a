# State only (choices live in Python): the audit actions and timeline types are now registered by the apps that
# own them (core.kinds); the columns and their values are unchanged.

import core.kinds
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('groups', '0005_participant_profile_seen_at'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=core.kinds.audit_action_choices, db_index=True, max_length=40),
        ),
        migrations.AlterField(
            model_name='groupevent',
            name='type',
            field=models.CharField(choices=core.kinds.timeline_type_choices, db_index=True, max_length=40),
        ),
    ]
