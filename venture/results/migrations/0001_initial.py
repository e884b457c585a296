# The frozen results moved here from the awards app. The table stays where it is (awards_resultsnapshot, created by
# awards 0001): this migration only tells Django's state that the model now belongs to this app; awards 0002 removes
# it from the awards app's state. Nothing runs against the database, on a fresh migrate or an upgrade.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("awards", "0001_initial"),
        ("competitions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ResultSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("method", models.CharField(max_length=20)),
                        ("params", models.JSONField(default=dict)),
                        ("code_version", models.CharField(max_length=80)),
                        ("inputs", models.JSONField()),
                        ("outputs", models.JSONField()),
                        ("digest", models.CharField(max_length=64)),
                        ("valid", models.BooleanField(default=True)),
                        ("invalidated_at", models.DateTimeField(blank=True, null=True)),
                        ("invalidated_reason", models.TextField(blank=True)),
                        ("signed_off_at", models.DateTimeField(blank=True, null=True)),
                        ("sign_off_note", models.TextField(blank=True)),
                        (
                            "competition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="snapshots",
                                to="competitions.competition",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "signed_off_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "awards_resultsnapshot",
                        "ordering": ["-created_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("valid", True)),
                                fields=("competition",),
                                name="one_valid_snapshot_per_round",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
