from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_hash_chain_backfill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="sequence"),
        ),
    ]
