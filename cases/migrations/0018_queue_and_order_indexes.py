
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0017_notification_index'),
        ('partners', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='issue',
            name='issue_status_created_idx',
        ),
        migrations.AddIndex(
            model_name='escalation',
            index=models.Index(fields=['created_at', 'id'], name='escalation_created_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['due_at', 'id'], name='issue_due_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['updated_at', 'id'], name='issue_updated_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['priority', 'created_at', 'id'], name='issue_priority_created_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('status__in', ['new', 'acknowledged', 'in_progress', 'on_hold'])), fields=['assignee', 'due_at', 'id'], name='issue_open_assignee_due_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('assignee__isnull', True), ('status__in', ['new', 'acknowledged', 'in_progress', 'on_hold'])), fields=['neighborhood', 'due_at', 'id'], name='issue_unassigned_nbhd_due_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('assignee__isnull', True), ('status__in', ['new', 'acknowledged', 'in_progress', 'on_hold'])), fields=['priority', 'created_at', 'id'], name='issue_unassigned_priority_idx'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['status', 'created_at', 'id'], name='issue_status_created_idx'),
        ),
    ]
