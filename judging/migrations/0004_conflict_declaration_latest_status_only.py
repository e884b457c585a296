"""The declaration keeps only its current status; who declared, overrode or reversed what, when and why is in the
conflict register (ConflictEntry, filled from these columns by 0003). Separate from 0003 so that on PostgreSQL the
rows written there are committed before these columns go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("judging", "0003_conflict_register"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="conflictdeclaration",
            name="declared_at",
        ),
        migrations.RemoveField(
            model_name="conflictdeclaration",
            name="overridden_at",
        ),
        migrations.RemoveField(
            model_name="conflictdeclaration",
            name="overridden_by",
        ),
        migrations.RemoveField(
            model_name="conflictdeclaration",
            name="override_reason",
        ),
        migrations.RemoveField(
            model_name="conflictdeclaration",
            name="reason",
        ),
    ]
