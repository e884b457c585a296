from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from venture import permissions
from venture.uploads import serve

from . import services
from .forms import InviteForm, OrganizationForm, RejectForm
from .models import Invitation, Organization, OrgStatus


@login_required
def organization_list(request):
    permissions.require(request.user, "organization.list")
    organizations = Organization.objects.annotate(n_proposals=Count("proposals")).order_by("status", "name")
    status = request.GET.get("status", "")
    if status in OrgStatus.values:
        organizations = organizations.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        organizations = organizations.filter(Q(name__icontains=q) | Q(uscc__icontains=q))
    page = Paginator(organizations, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "venture/organizations/list.html",
        {"page": page, "status": status, "q": q, "statuses": OrgStatus.choices},
    )


@login_required
def organization_detail(request, pk):
    organization = permissions.get_for(request.user, "organization.view", Organization.objects.all(), pk=pk)
    members = organization.memberships.select_related("user")
    proposals = organization.proposals.select_related("competition", "category").order_by("-created_at")
    # Its funded projects (supervision's, reached through the reverse relation so this app imports nothing above
    # it) with their evaluations: two queries.
    funded = (
        organization.projects.select_related("competition")
        .prefetch_related("evaluations")
        .order_by("-competition__year", "-signed_on", "title")
    )
    return render(
        request,
        "venture/organizations/detail.html",
        {
            "organization": organization,
            "members": members,
            "proposals": proposals,
            "funded": funded,
            "reject_form": RejectForm(),
            "invite_form": InviteForm(),
            "invitations": organization.invitations.filter(accepted_at__isnull=True),
        },
    )


@login_required
def organization_create(request):
    permissions.require(request.user, "organization.create")
    form = OrganizationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        organization = services.create_organization(by=request.user, data=form.cleaned_data)
        messages.success(request, _("Organization registered. Union staff will verify it before you can submit."))
        return redirect(organization)
    return render(request, "venture/organizations/form.html", {"form": form})


@login_required
def organization_edit(request, pk):
    organization = permissions.get_for(request.user, "organization.edit", Organization.objects.all(), pk=pk)
    status = organization.status
    form = OrganizationForm(request.POST or None, request.FILES or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        organization = services.update_organization(organization=organization, by=request.user, data=form.cleaned_data)
        if "resubmit" in request.POST and organization.status == OrgStatus.REJECTED:
            permissions.require(request.user, "organization.resubmit", organization)
            services.resubmit_organization(organization=organization, by=request.user)
            messages.success(request, _("Saved and resubmitted: union staff will verify the organization again."))
        elif status == OrgStatus.VERIFIED and organization.status == OrgStatus.PENDING:
            messages.warning(
                request,
                _(
                    "Saved. The organization's identity changed, so it is back in verification: "
                    "union staff have been told, and its proposals cannot be submitted until "
                    "they verify it again."
                ),
            )
        else:
            messages.success(request, _("Saved."))
        return redirect(organization)
    return render(
        request,
        "venture/organizations/form.html",
        {
            "form": form,
            "organization": organization,
            "status": status,
            "identity_fields": services.identity_labels(),
            "may_resubmit": permissions.can(request.user, "organization.resubmit", organization),
        },
    )


@require_POST
@login_required
def organization_resubmit(request, pk):
    """A rejected organization, corrected, goes back to 待审核."""
    organization = permissions.get_for(request.user, "organization.resubmit", Organization.objects.all(), pk=pk)
    try:
        services.resubmit_organization(organization=organization, by=request.user)
        messages.success(request, _("Resubmitted: union staff will verify the organization again."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(organization)


@require_POST
@login_required
def organization_verify(request, pk):
    organization = permissions.get_for(request.user, "organization.verify", Organization.objects.all(), pk=pk)
    try:
        services.verify_organization(organization=organization, by=request.user)
        messages.success(request, _("Organization verified."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(organization)


@require_POST
@login_required
def organization_reject(request, pk):
    organization = permissions.get_for(request.user, "organization.verify", Organization.objects.all(), pk=pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.reject_organization(organization=organization, by=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("Organization rejected; the reason is shown to its members."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Give the reason for the rejection; the organization will see it."))
    return redirect(organization)


@require_POST
@login_required
def organization_invite(request, pk):
    organization = permissions.get_for(request.user, "organization.invite", Organization.objects.all(), pk=pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        services.invite_member(organization=organization, email=form.cleaned_data["email"], by=request.user)
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect(organization)


@login_required
def accept_invitation(request, token):
    invitation = get_object_or_404(
        Invitation.objects.select_related("organization"), token=token, accepted_at__isnull=True
    )
    if request.method == "POST":
        permissions.require(request.user, "organization.create")  # applicants only
        organization = services.accept_invitation(invitation=invitation, user=request.user)
        messages.success(request, _("You are now a member of %(org)s.") % {"org": organization.name})
        return redirect(organization)
    return render(request, "venture/organizations/accept_invitation.html", {"invitation": invitation})


@login_required
def organization_certificate(request, pk):
    organization = permissions.get_for(request.user, "organization.view", Organization.objects.all(), pk=pk)
    if not organization.certificate:
        raise permissions.Http404
    return serve(organization.certificate, download_name=organization.certificate_name or None)
