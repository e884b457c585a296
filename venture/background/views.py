"""The staff page of failed tasks: each task whose attempts are spent, with its error, and a button to run it again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tasks_db.models import DBTaskResult

from venture import permissions

from .tasks import failed_tasks, retry_failed


@login_required
def failed(request):
    permissions.require(request.user, "tasks.manage")
    given_up, retrying = failed_tasks()
    return render(request, "venture/background/failed.html", {"failed": given_up, "retrying": retrying})


@require_POST
@login_required
def retry(request, pk):
    result = permissions.get_for(request.user, "tasks.manage", DBTaskResult.objects.failed(), pk=pk)
    retry_failed(result=result, by=request.user)
    messages.success(request, _("The task was queued again."))
    return redirect("background:failed")
