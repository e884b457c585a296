from django.db import migrations, models


class Migration(migrations.Migration):
    """The hand-written login counter gives way to django-axes; the previous sign-in is kept to show at the next."""

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="user", name="failed_logins"),
        migrations.RemoveField(model_name="user", name="locked_until"),
        migrations.AddField(
            model_name="user",
            name="last_sign_in_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last sign-in"),
        ),
        migrations.AddField(
            model_name="user",
            name="last_sign_in_ip",
            field=models.GenericIPAddressField(
                blank=True, editable=False, null=True, verbose_name="last sign-in address"
            ),
        ),
    ]
