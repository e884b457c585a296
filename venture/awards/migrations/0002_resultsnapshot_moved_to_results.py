# ResultSnapshot now belongs to the results app (results 0001 took it over with its table, awards_resultsnapshot).
# The awards app forgets it in Django's state only; the table, its rows and its constraint stay as they are. The
# content type follows the model, so permissions and anything keyed on it keep pointing at the same rows.

from django.db import migrations


def move_content_type(apps, schema_editor, source="awards", target="results"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=target, model="resultsnapshot").exists():
        types.filter(app_label=source, model="resultsnapshot").update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="results", target="awards")


class Migration(migrations.Migration):
    dependencies = [
        ("awards", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("results", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ResultSnapshot"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
