from django.db import migrations, models

from studiocrm.core.audit import GENESIS, row_hash


def chain_existing_rows(apps, schema_editor):
    """Hash the rows written before the chain existed, oldest first, and start the head."""
    AuditLog = apps.get_model("core", "AuditLog")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    prev_hash, last_id, count = GENESIS, None, 0
    batch = []
    for row in AuditLog.objects.order_by("pk").iterator(chunk_size=2000):
        row.prev_hash = prev_hash
        row.hash = row_hash(row, prev_hash)
        prev_hash, last_id, count = row.hash, row.pk, count + 1
        batch.append(row)
        if len(batch) >= 2000:
            AuditLog.objects.bulk_update(batch, ["prev_hash", "hash"])
            batch = []
    AuditLog.objects.bulk_update(batch, ["prev_hash", "hash"])
    AuditChainHead.objects.update_or_create(
        pk=1, defaults={"last_id": last_id, "last_hash": prev_hash, "length": count}
    )


def unchain(apps, schema_editor):
    apps.get_model("core", "AuditChainHead").objects.all().delete()



class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_id', models.BigIntegerField(blank=True, null=True)),
                ('last_hash', models.CharField(blank=True, max_length=64)),
                ('length', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='auditlog',
            name='hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='auditlog',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(chain_existing_rows, unchain),
    ]
